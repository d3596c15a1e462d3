import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import { unixfs } from '@helia/unixfs'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type IpfsRegistry, ipfsRegistry } from '../../registries/ipfs/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh } from '../../src/mesh.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceDraft } from '../../src/testing/_conformanceDraft.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'

let root: string
let dirs = 0
let signer: LocalSigner
let components: StandaloneComponents
const open: IpfsRegistry[] = []

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
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-int-'))
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
  await components.close()
})

describe('ipfsRegistry on disk', () => {
  it('keeps every record across a restart from the same dir', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    const records = await Promise.all(
      ['acme.com/image/sharpen', 'acme.com/image/blur', 'acme.com/text/nlp/sentiment'].map((n) =>
        conformanceRecord(signer, n, 1),
      ),
    )
    for (const record of records) await first.publish(record)
    const before = first.status()
    await first.stop()

    const second = await openRegistry({ dir })
    expect(second.status()).toMatchObject({ root: before.root, ipnsSequence: before.ipnsSequence, names: 3 })
    for (const record of records) {
      const entry = await second.lookup(record.record.name)
      expect(text(entry?.bytes)).toBe(text(record.bytes))
    }
    // The same key publishes the next root: the sequence goes on rising after the restart.
    await second.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2))
    expect(second.status().ipnsSequence).toBe(before.ipnsSequence! + 1n)
  })

  it('rebuilds the index from its IPNS root when the index is missing', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2, 'v2'))
    await first.publish(await conformanceRecord(signer, 'acme.com/text/summarize', 4))
    const before = first.status()
    await first.stop()
    await rm(join(dir, 'datastore', 'fmesh-ipfs'), { recursive: true })

    const second = await openRegistry({ dir })
    expect(second.status()).toMatchObject({ root: before.root, ipnsSequence: before.ipnsSequence, names: 2 })
    const names: string[] = []
    for await (const name of second.list('acme.com/**')) names.push(name)
    expect(names.sort()).toEqual(['acme.com/image/sharpen', 'acme.com/text/summarize'])
    const verified = await components.verifier.verify((await second.lookup('acme.com/image/sharpen'))!.bytes)
    expect(verified.record).toMatchObject({ seq: 2, description: 'v2' })
    // The rebuilt index knows the seqs: a lower one is refused.
    const err = await errorOf(second.publish(await conformanceRecord(signer, 'acme.com/text/summarize', 3)))
    expect(err).toMatchObject({ code: 'E_PUBLISH_CONFLICT' })
  })

  it('publishes each new root under IPNS with a rising sequence; the name resolves to the current root', async () => {
    const registry = await openRegistry({ dir: nextDir() })
    const sequences = [registry.status().ipnsSequence!]
    for (let seq = 1; seq <= 3; seq++) {
      await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', seq, `v${seq}`))
      sequences.push(registry.status().ipnsSequence!)
    }
    expect(sequences).toEqual([1n, 2n, 3n, 4n])
    const helia = registry.helia!
    const key = CID.parse(registry.status().ipnsName!.slice('/ipns/'.length))
    const resolved: string[] = []
    for await (const result of ipns(helia).resolve(key, { offline: true })) resolved.push(result.value)
    expect(resolved.at(-1)).toBe(`/ipfs/${registry.status().root}`)
    // The path under the root holds the record's canonical bytes, the same block the index points at.
    const stat = await unixfs(helia).stat(CID.parse(registry.status().root!), {
      path: 'acme.com/image/sharpen.json',
      offline: true,
    })
    expect((await registry.lookup('acme.com/image/sharpen'))?.location).toBe(`ipfs:/ipfs/${stat.cid}`)
  })

  it('reads each record from its block file: the very bytes the blockstore returns for the CID', async () => {
    const registry = await openRegistry({ dir: nextDir() })
    const records = await Promise.all(
      Array.from({ length: 30 }, (_, i) => conformanceRecord(signer, `acme.com/direct/fn-${i}`, 1)),
    )
    for (const record of records) await registry.publish(record)
    for (const record of records) {
      const entry = (await registry.lookup(record.record.name))!
      const chunks: Uint8Array[] = []
      const cid = CID.parse(entry.location!.slice('ipfs:/ipfs/'.length))
      for await (const chunk of registry.helia!.blockstore.get(cid, { offline: true })) chunks.push(chunk)
      expect(Buffer.from(entry.bytes).equals(Buffer.concat(chunks))).toBe(true)
      expect(Buffer.from(entry.bytes).equals(Buffer.from(record.bytes))).toBe(true)
    }
  })

  it('error: a root whose IPNS sequence went backwards is refused with E_IPNS_ROLLBACK', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    const older = first.status().ipnsSequence!
    // Keep the IPNS record of that root (the datastore's dht/ keys), as an old backup would.
    const saved = join(root, `ipns-backup-${dirs}`)
    await cp(join(dir, 'datastore', 'dht'), saved, { recursive: true })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2))
    const newer = first.status().ipnsSequence!
    await first.stop()
    await rm(join(dir, 'datastore', 'dht'), { recursive: true })
    await cp(saved, join(dir, 'datastore', 'dht'), { recursive: true })

    const err = await errorOf(ipfsRegistry({ dir })(components).start())
    expect(err).toMatchObject({
      code: 'E_IPNS_ROLLBACK',
      details: { sequence: String(older), seen: String(newer) },
    })
  })

  it('error: a dir another live registry holds is refused with E_IPFS_STORE; a lock left by a dead process is taken over', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    const err = await errorOf(ipfsRegistry({ dir })(components).start())
    expect(err).toMatchObject({ code: 'E_IPFS_STORE', details: { dir } })
    expect((err as Error).message).toContain(`process ${process.pid}`)
    await first.stop()

    await writeFile(join(dir, 'fmesh-ipfs.lock'), '999999999') // no such process
    const second = await openRegistry({ dir })
    expect(second.status().started).toBe(true)
  })

  it('error: an unwritable dir is refused with E_IPFS_STORE naming the dir', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'not a directory')
    const registry = ipfsRegistry({ dir: join(file, 'sub') })(components)
    const err = await errorOf(registry.start())
    expect(isMeshError(err)).toBe(true)
    expect(err).toMatchObject({ code: 'E_IPFS_STORE', details: { dir: join(file, 'sub') } })
    expect((err as Error).message).toContain('writable directory')
  })

  it('error: a corrupt index entry is refused with E_IPFS_INDEX_CORRUPT saying how to rebuild', async () => {
    const dir = nextDir()
    const first = await openRegistry({ dir })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    await first.stop()
    const names = join(dir, 'datastore', 'fmesh-ipfs', Buffer.from('ipfs').toString('hex'), 'names')
    const [file] = await readdir(names)
    await writeFile(join(names, file!), '{"cid": 7')
    const err = await errorOf(ipfsRegistry({ dir })(components).start())
    expect(err).toMatchObject({ code: 'E_IPFS_INDEX_CORRUPT' })
    expect((err as Error).message).toContain('rebuilds it from its IPNS root')
  })

  it('error: a block whose bytes do not match its CID is refused with E_IPFS_BLOCK_CORRUPT', async () => {
    const dir = nextDir()
    const registry = await openRegistry({ dir })
    await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    const location = (await registry.lookup('acme.com/image/sharpen'))!.location!
    const cid = CID.parse(location.slice('ipfs:/ipfs/'.length))
    // Damage the block file on disk, as a failing disk or a hand edit would.
    const original = Buffer.from((await registry.lookup('acme.com/image/sharpen'))!.bytes)
    const blocks = join(dir, 'blocks')
    let damaged = 0
    for (const entry of await readdir(blocks, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name)
      if (entry.isFile() && (await readFile(path)).equals(original)) {
        await writeFile(path, '{"tampered":true}')
        damaged++
      }
    }
    expect(damaged).toBe(1)
    // A process that reads the block from disk refuses it (this one keeps the bytes it checked).
    await registry.stop()
    const again = await openRegistry({ dir })
    const err = await errorOf(again.lookup('acme.com/image/sharpen'))
    expect(err).toMatchObject({ code: 'E_IPFS_BLOCK_CORRUPT', details: { cid: cid.toString() } })
  })
})

describe('ipfsRegistry on a given Helia node', () => {
  it('shards a directory with many entries (300 names, a low shard threshold) into a HAMT', async () => {
    const helia = await createHeliaLight().start()
    try {
      const registry = await openRegistry({ helia, shardSplitThresholdBytes: 1024 })
      for (let i = 0; i < 300; i++)
        await registry.publish(await conformanceRecord(signer, `acme.com/bulk/fn-${i}`, 1))
      const fs = unixfs(helia)
      const top = CID.parse(registry.status().root!)
      const bulk = await fs.stat(top, { path: 'acme.com/bulk', offline: true })
      expect(bulk.unixfs?.type).toBe('hamt-sharded-directory')
      // A directory of one entry stays a plain directory.
      expect((await fs.stat(top, { path: 'acme.com', offline: true })).unixfs?.type).toBe('directory')
      let count = 0
      for await (const _ of fs.ls(bulk.cid, { offline: true })) count++
      expect(count).toBe(300)
      const entry = await registry.lookup('acme.com/bulk/fn-299')
      expect((await components.verifier.verify(entry!.bytes)).record.name).toBe('acme.com/bulk/fn-299')
      await registry.stop()
      expect(helia.status).toBe('started') // a given node is not the registry's to stop
    } finally {
      await helia.stop()
    }
    // 300 publishes: a loaded machine takes longer than the default 30 s.
  }, 120_000)

  it('pins what it publishes: records and the current tree survive helia.gc(), a replaced record does not', async () => {
    const helia = await createHeliaLight().start()
    try {
      const registry = await openRegistry({ helia, shardSplitThresholdBytes: 512 })
      for (let i = 0; i < 20; i++)
        await registry.publish(await conformanceRecord(signer, `acme.com/gc/fn-${i}`, 1))
      const old = (await registry.lookup('acme.com/gc/fn-0'))!.location!
      await registry.publish(await conformanceRecord(signer, 'acme.com/gc/fn-0', 2, 'v2'))
      const stray = await unixfs(helia).addBytes(new TextEncoder().encode('unpinned'))
      await helia.gc()

      expect(await helia.blockstore.has(stray)).toBe(false)
      expect(await helia.blockstore.has(CID.parse(old.slice('ipfs:/ipfs/'.length)))).toBe(false)
      for (let i = 0; i < 20; i++) expect(await registry.lookup(`acme.com/gc/fn-${i}`)).toBeDefined()
      // The whole current tree is still there: every file can be read from the root...
      const fs = unixfs(helia)
      let files = 0
      for await (const _ of fs.ls(CID.parse(registry.status().root!), { path: 'acme.com/gc', offline: true }))
        files++
      expect(files).toBe(20)
      // ...and the next publish builds on it.
      await registry.publish(await conformanceRecord(signer, 'acme.com/gc/fn-20', 1))
      expect(registry.status().names).toBe(21)
    } finally {
      await helia.stop()
    }
  })

  it('error: a given node that is not started is refused at start, naming the option', async () => {
    const helia = createHeliaLight()
    const err = await errorOf(ipfsRegistry({ helia })(components).start())
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path: 'ipfsRegistry.helia' } })
    expect((err as Error).message).toContain('await helia.start()')
  })

  it('serves a mesh: resolves a record published through mesh.publish into the IPFS registry', async () => {
    const helia = await createHeliaLight().start()
    const mesh = await createMesh({
      registries: [ipfsRegistry({ helia, id: 'ipfs-mesh' })],
      trust: { owners: { 'acme.com': [signer.id] } },
    })
    try {
      await mesh.publish(conformanceDraft('acme.com/image/sharpen', 1), { signer })
      const result = await mesh.resolve('acme.com/image/sharpen@^1.2')
      expect(result.version).toBe('1.4.1')
      expect(result.source).toMatchObject({ kind: 'registry', registry: 'ipfs-mesh' })
    } finally {
      await mesh.close()
      await helia.stop()
    }
  })
})

describe('ipfsRegistry options', () => {
  it.each([
    [{}, 'ipfsRegistry.dir', '`dir`'],
    [{ dir: 'x', helia: {} }, 'ipfsRegistry.helia', 'Helia node'],
    [{ dir: 'x', ipnsKey: 'a b' }, 'ipfsRegistry.ipnsKey', 'keychain key name'],
    [{ dir: 'x', shardSplitThresholdBytes: 0 }, 'ipfsRegistry.shardSplitThresholdBytes', ''],
    [{ dir: 'x', ipnsKeys: 'k' }, 'ipfsRegistry.ipnsKeys', 'did you mean `ipnsKey`'],
  ])('error: refuses %j naming %s', (init, path, rule) => {
    let err: unknown
    try {
      ipfsRegistry(init as never)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path } })
    expect((err as { details: { rule: string } }).details.rule).toContain(rule)
  })
})
