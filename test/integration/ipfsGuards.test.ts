import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import * as dagPb from '@ipld/dag-pb'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type IpfsRegistry, ipfsRegistry } from '../../registries/ipfs/index.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { until } from '../_helpers/until.js'

let root: string
let dirs = 0
let signer: LocalSigner
let components: StandaloneComponents
const open: IpfsRegistry[] = []
const helias: { stop(): Promise<unknown> }[] = []

const nextDir = () => join(root, `node-${dirs++}`)
async function openRegistry(init: Parameters<typeof ipfsRegistry>[0]): Promise<IpfsRegistry> {
  const registry = ipfsRegistry(init)(components)
  open.push(registry)
  await registry.start()
  return registry
}
async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}
async function memoryHelia() {
  const helia = await createHeliaLight().start()
  helias.push(helia)
  return helia
}
const cidOf = (location: string | undefined) => CID.parse(location!.slice('ipfs:/ipfs/'.length))
/** Removes the registry's own index from its dir, so the next start rebuilds it from the IPNS root. */
const removeIndex = (dir: string) => rm(join(dir, 'datastore', 'fmesh-ipfs'), { recursive: true })

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-guards-'))
  signer = await generateSigner()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
beforeEach(() => {
  components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
})
afterEach(async () => {
  for (const registry of open.splice(0)) await registry.stop()
  for (const helia of helias.splice(0)) await helia.stop()
  await components.close()
})

describe('ipfsRegistry paths', () => {
  it.each([
    ['/acme.com/image/sharpen', 'absolute'],
    ['acme.com/../../etc/passwd', 'dot-segment'],
    ['acme.com/./image', 'dot-segment'],
    ['acme.com/image%2F..%2Fsharpen', 'encoded-separator'],
    ['acme.com//sharpen', 'empty-segment'],
    ['acme.com/image\\sharpen', 'backslash'],
    ['acme.com/image/sharp\u0000en', 'control-character'],
    ['acme.com/image/sharp en', 'not-a-name-segment'],
    ['acme.com', 'empty-segment'],
    [`acme.com/${Array.from({ length: 9 }, () => 'a').join('/')}`, 'too-many-segments'],
  ])('error: a lookup of %j is refused with E_IPFS_PATH_INVALID (%s)', async (name, problem) => {
    const registry = await openRegistry({ helia: await memoryHelia() })
    const err = await errorOf(registry.lookup(name))
    expect(err).toMatchObject({ code: 'E_IPFS_PATH_INVALID', details: { problem } })
    expect((err as Error).message).toContain(JSON.stringify(name.toLowerCase()))
  })

  it('a rebuild never indexes a tree entry whose link name escapes or reads as another path', async () => {
    const helia = await memoryHelia()
    const put = async (bytes: Uint8Array, code: number) => {
      const cid = CID.createV1(code, await sha256.digest(bytes))
      await helia.blockstore.put(cid, bytes)
      return cid
    }
    // A UnixFS directory node is dag-pb whose Data is the UnixFS message { Type: Directory }.
    const dir = (links: Record<string, CID>) =>
      put(
        dagPb.encode({
          Data: new Uint8Array([0x08, 0x01]),
          Links: Object.keys(links)
            .sort()
            .map((name) => ({ Name: name, Hash: links[name]!, Tsize: 0 })),
        }),
        dagPb.code,
      )
    const ok = await conformanceRecord(signer, 'acme.com/text/ok', 1)
    const sharpen = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    const blur = await conformanceRecord(signer, 'acme.com/blur', 1)
    // Each record verifies under the name its (odd) path reads as: only the path check refuses it.
    const text = await dir({ 'ok.json': await put(ok.bytes, 0x55) })
    const dotdot = await dir({ 'blur.json': await put(blur.bytes, 0x55) })
    const acme = await dir({
      text,
      'image/sharpen.json': await put(sharpen.bytes, 0x55),
      '..': dotdot,
      'image%2Fsharpen.json': await put(sharpen.bytes, 0x55),
    })
    const top = await dir({ 'acme.com': acme })
    await ipns(helia).publish('function-mesh-registry-ipfs', top, { offline: true })

    const registry = await openRegistry({ helia })
    const names: string[] = []
    for await (const name of registry.list('**')) names.push(name)
    expect(names).toEqual(['acme.com/text/ok'])
    expect(registry.status()).toMatchObject({ root: top.toString(), names: 1 })
  })
})

describe('ipfsRegistry bad input', () => {
  it('error: a rebuild of a tree with an oversize directory is refused with E_IPFS_DIRECTORY_TOO_LARGE', async () => {
    const dir = nextDir()
    // No sharding: one directory block holds every entry.
    const first = await openRegistry({ dir, shardSplitThresholdBytes: 1 << 20 })
    for (let i = 0; i < 12; i++)
      await first.publish(await conformanceRecord(signer, `acme.com/bulk/fn-${i}`, 1))
    await first.stop()
    await removeIndex(dir)
    const bytes = await errorOf(ipfsRegistry({ dir, maxDirectoryBytes: 256 })(components).start())
    expect(bytes).toMatchObject({
      code: 'E_IPFS_DIRECTORY_TOO_LARGE',
      details: { measure: 'block bytes', max: 256 },
    })
    const entries = await errorOf(ipfsRegistry({ dir, maxTreeEntries: 5 })(components).start())
    expect(entries).toMatchObject({
      code: 'E_IPFS_DIRECTORY_TOO_LARGE',
      details: { measure: 'entries', size: 6, max: 5 },
    })
    // Within the bounds the same tree rebuilds.
    const again = await openRegistry({ dir })
    expect(again.status().names).toBe(12)
  })

  it('error: a damaged own IPNS record is refused at start with E_IPNS_RECORD_INVALID, not published over', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    await first.stop()
    let damaged = 0
    for (const entry of await readdir(join(dir, 'datastore', 'dht'), {
      recursive: true,
      withFileTypes: true,
    })) {
      if (!entry.isFile()) continue
      await writeFile(join(entry.parentPath, entry.name), 'not an IPNS record')
      damaged++
    }
    expect(damaged).toBeGreaterThan(0)
    const err = await errorOf(ipfsRegistry({ dir })(components).start())
    expect(err).toMatchObject({ code: 'E_IPNS_RECORD_INVALID', details: { own: true } })
    expect((err as Error).message).toContain(first.status().ipnsName ?? '/ipns/')
  })
})

describe('ipfsRegistry pins', () => {
  it('releases superseded versions and roots to helia.gc(), keeping a version a content-store put still holds', async () => {
    const helia = await memoryHelia()
    const registry = await openRegistry({ helia })
    const v1 = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    const first = cidOf((await registry.publish(v1)).location)
    const blur1 = cidOf(
      (await registry.publish(await conformanceRecord(signer, 'acme.com/image/blur', 1))).location,
    )
    const oldRoot = CID.parse(registry.status().root!)
    // A chain anchor points at sharpen v1 through the content store: the same raw block.
    expect(await registry.contentStore.put(v1.bytes)).toBe(first.toString())
    // sharpen is replaced; blur is yanked (a new seq of the record, its version marked yanked).
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2, 'v2'))
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/blur', 2, 'yanked'))
    await helia.gc()

    expect(await helia.blockstore.has(blur1)).toBe(false)
    expect(await helia.blockstore.has(oldRoot)).toBe(false)
    expect(await helia.blockstore.has(first)).toBe(true)
    expect(await registry.contentStore.get(first.toString())).toEqual(v1.bytes)
    for (const name of ['acme.com/image/sharpen', 'acme.com/image/blur']) {
      const entry = await registry.lookup(name)
      expect((await components.verifier.verify(entry!.bytes)).record.seq).toBe(2)
    }
    // The hold outlives the registry object: a new one on the same node keeps it across gc.
    await registry.stop()
    const again = await openRegistry({ helia })
    await again.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 3))
    await helia.gc()
    expect(await helia.blockstore.has(first)).toBe(true)
  })
})

describe('ipfsRegistry record cache', () => {
  const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b)
  it('serves a block read once from memory to lookups and to content-store reads by text; a new node refuses it damaged', async () => {
    const dir = nextDir()
    const registry = await openRegistry({ dir })
    const v1 = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    const cid = cidOf((await registry.publish(v1)).location)
    expect(same((await registry.lookup('acme.com/image/sharpen'))!.bytes, v1.bytes)).toBe(true)
    expect(same(await registry.contentStore.get(cid.toString()), v1.bytes)).toBe(true)
    let damaged = 0
    for (const entry of await readdir(join(dir, 'blocks'), { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name)
      if (entry.isFile() && same(await readFile(path), v1.bytes)) {
        await writeFile(path, Buffer.from('{"damaged":true}'))
        damaged++
      }
    }
    expect(damaged).toBe(1)
    // The index's CID object and a fresh parse of the same text both find the checked bytes kept.
    expect(same((await registry.lookup('acme.com/image/sharpen'))!.bytes, v1.bytes)).toBe(true)
    expect(same(await registry.contentStore.get(CID.parse(cid.toString()).toString()), v1.bytes)).toBe(true)
    await registry.stop()
    const again = await openRegistry({ dir })
    expect(await errorOf(again.lookup('acme.com/image/sharpen'))).toMatchObject({
      code: 'E_IPFS_BLOCK_CORRUPT',
    })
  })

  it('a warm lookup of a name serves the new record once it is published again', async () => {
    const registry = await openRegistry({ dir: nextDir() })
    const seqOf = async () =>
      (await components.verifier.verify((await registry.lookup('acme.com/image/sharpen'))!.bytes)).record.seq
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    expect(await seqOf()).toBe(1)
    expect(await seqOf()).toBe(1)
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2, 'v2'))
    expect(await seqOf()).toBe(2)
  })
})

describe('ipfsRegistry IPNS republish', () => {
  let clock: FakeClock
  beforeEach(() => {
    clock = fakeClock(Date.now())
    components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } }, clock })
  })

  it('publishes the current root again before its IPNS record expires, on the mesh clock', async () => {
    const helia = await memoryHelia()
    const registry = await openRegistry({ helia, ipnsLifetimeMs: 60_000, ipnsRepublishMs: 30_000 })
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    const { root, ipnsSequence } = registry.status()
    const key = CID.parse(registry.ipnsName!.slice('/ipns/'.length))
    const current = async () => {
      let last: { value: string; sequence: bigint | undefined } | undefined
      for await (const r of ipns(helia).resolve(key, { offline: true }))
        last = { value: r.value, sequence: r.record.sequence }
      return last
    }

    await clock.advanceAsync(29_999)
    expect(registry.status().ipnsSequence).toBe(ipnsSequence)
    await clock.advanceAsync(1)
    await until(() => registry.status().ipnsSequence === ipnsSequence! + 1n, {
      what: 'the first republish',
      timeoutMs: 20_000,
    })
    expect(await current()).toEqual({ value: `/ipfs/${root}`, sequence: ipnsSequence! + 1n })
    expect(registry.status().root).toBe(root)

    // A publish starts the interval over: 20 s later nothing is due, 30 s after it the next one is.
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2))
    const afterPublish = registry.status().ipnsSequence!
    await clock.advanceAsync(20_000)
    expect(registry.status().ipnsSequence).toBe(afterPublish)
    await clock.advanceAsync(10_000)
    await until(() => registry.status().ipnsSequence === afterPublish + 1n, {
      what: 'the republish after a publish',
      timeoutMs: 20_000,
    })
    expect((await current())?.value).toBe(`/ipfs/${registry.status().root}`)

    // The republished sequence is saved: a restart goes on from it.
    await registry.stop()
    expect(clock.pending).toBe(0)
    const again = await openRegistry({ helia, ipnsLifetimeMs: 60_000, ipnsRepublishMs: 30_000 })
    expect(again.status().ipnsSequence).toBe(afterPublish + 1n)
  })

  it('error: a republish interval not below the IPNS lifetime is a ConfigError', () => {
    expect(() => ipfsRegistry({ dir: nextDir(), ipnsLifetimeMs: 10_000, ipnsRepublishMs: 10_000 })).toThrow(
      /ipnsRepublishMs.*below ipnsLifetimeMs/s,
    )
  })
})
