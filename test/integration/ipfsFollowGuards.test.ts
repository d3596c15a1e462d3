import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import { CID } from 'multiformats/cid'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type IpfsRegistry, type IpfsRegistryInit, ipfsRegistry } from '../../registries/ipfs/index.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { connectIpfs, errorOf } from '../_helpers/ipfsConnect.js'

let root: string
let dirs = 0
let signer: LocalSigner
let components: StandaloneComponents
const open: IpfsRegistry[] = []

/** Per-test bound: several real nodes, each lookup over the DHT and bitswap. */
const SLOW = 120_000
const nextDir = () => join(root, `node-${dirs++}`)
const network = { listen: ['/ip4/127.0.0.1/tcp/0'] }
const cidOf = (location: string | undefined) => CID.parse(location!.replace('ipfs:/ipfs/', ''))

async function openRegistry(init: IpfsRegistryInit): Promise<IpfsRegistry> {
  // Generous deadlines: the subject here is what is refused, not how fast, on a loaded machine.
  const registry = ipfsRegistry({ network, followTimeoutMs: 30_000, ...init })(components)
  open.push(registry)
  await registry.start()
  return registry
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-follow-guards-'))
  signer = await generateSigner()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true, maxRetries: 5 })
})
beforeEach(() => {
  components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
})
afterEach(async () => {
  for (const registry of open.splice(0).reverse()) await registry.stop()
  await components.close()
})

describe('ipfsRegistry following an untrusted publisher', () => {
  it(
    'error: an oversize directory, or a walk through too many blocks, is refused with E_IPFS_DIRECTORY_TOO_LARGE',
    async () => {
      // No sharding at the publisher: one directory block holds all twelve entries.
      const a = await openRegistry({ dir: nextDir(), shardSplitThresholdBytes: 1 << 20 })
      for (let i = 0; i < 12; i++)
        await a.publish(await conformanceRecord(signer, `acme.com/bulk/fn-${i}`, 1))
      const small = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], maxDirectoryBytes: 256 })
      await connectIpfs(small, a, 20_000)
      const bytes = await errorOf(small.lookup('acme.com/bulk/fn-3'))
      expect(bytes).toMatchObject({
        code: 'E_IPFS_DIRECTORY_TOO_LARGE',
        details: { measure: 'block bytes', max: 256 },
      })
      expect((bytes as Error).message).toContain(a.ipnsName!)

      // The path root -> acme.com -> bulk is three directory blocks: a bound of two ends the walk.
      const short = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], maxWalkBlocks: 2 })
      await connectIpfs(short, a, 20_000)
      const walked = await errorOf(short.lookup('acme.com/bulk/fn-3'))
      expect(walked).toMatchObject({
        code: 'E_IPFS_DIRECTORY_TOO_LARGE',
        details: { measure: 'blocks walked', size: 3, max: 2 },
      })
      // Neither kept anything.
      expect(small.status().names + short.status().names).toBe(0)
    },
    SLOW,
  )

  it(
    'error: a publisher whose IPNS record names no /ipfs/ root is refused with E_IPNS_RECORD_INVALID',
    async () => {
      const a = await openRegistry({ dir: nextDir() })
      await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
      const b = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!] })
      await connectIpfs(b, a, 20_000)
      // A validly signed record under A's key, with a value that is not a root: A's own node stores it.
      await ipns(a.helia!).publish('function-mesh-registry-ipfs', '/not-ipfs/anything', { offline: true })
      const err = await errorOf(b.lookup('acme.com/image/sharpen'))
      expect(err).toMatchObject({
        code: 'E_IPNS_RECORD_INVALID',
        details: { ipnsName: a.ipnsName, own: false },
      })
      expect((err as Error).message).toContain('/not-ipfs/anything')
    },
    SLOW,
  )

  it(
    "releases a followed name's superseded version and the old root's path to helia.gc(), keeping the current ones",
    async () => {
      const a = await openRegistry({ dir: nextDir() })
      const first = cidOf(
        (await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))).location,
      )
      const blur = cidOf(
        (await a.publish(await conformanceRecord(signer, 'acme.com/image/blur', 1))).location,
      )
      const oldRoot = CID.parse(a.status().root!)
      const b = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], followRefreshMs: 0 })
      await connectIpfs(b, a, 20_000)
      expect(cidOf((await b.lookup('acme.com/image/sharpen'))?.location)).toEqual(first)
      expect(cidOf((await b.lookup('acme.com/image/blur'))?.location)).toEqual(blur)

      const second = cidOf(
        (await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 2, 'v2'))).location,
      )
      const newRoot = CID.parse(a.status().root!)
      expect(cidOf((await b.lookup('acme.com/image/sharpen'))?.location)).toEqual(second)
      const helia = b.helia!
      expect(await helia.blockstore.has(oldRoot)).toBe(true)
      await helia.gc()

      expect(await helia.blockstore.has(first)).toBe(false)
      expect(await helia.blockstore.has(second)).toBe(true)
      expect(await helia.blockstore.has(newRoot)).toBe(true)
      // blur's kept copy still runs through the old root: that path stays until blur is fetched again.
      expect(await helia.blockstore.has(blur)).toBe(true)
      expect(await helia.blockstore.has(oldRoot)).toBe(true)
      expect(cidOf((await b.lookup('acme.com/image/blur'))?.location)).toEqual(blur)
      await helia.gc()
      expect(await helia.blockstore.has(oldRoot)).toBe(false)
      expect(await helia.blockstore.has(blur)).toBe(true)
    },
    SLOW,
  )

  it(
    'reuses a resolved root for followRefreshMs on the mesh clock: a name published after it is found once that has passed',
    async () => {
      const clock = fakeClock(Date.now())
      components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } }, clock })
      const a = await openRegistry({ dir: nextDir() })
      await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
      const b = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], followRefreshMs: 10_000 })
      await connectIpfs(b, a, 20_000)
      expect(await b.lookup('acme.com/image/sharpen')).toBeDefined()
      await a.publish(await conformanceRecord(signer, 'acme.com/image/blur', 1))
      // Within the window B walks the root it resolved, which has no blur yet.
      expect(await b.lookup('acme.com/image/blur')).toBeUndefined()
      clock.advance(10_000)
      expect(await b.lookup('acme.com/image/blur')).toBeDefined()
    },
    SLOW,
  )
})
