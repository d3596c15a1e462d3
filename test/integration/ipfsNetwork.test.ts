import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NextToLast } from 'blockstore-fs/sharding'
import { CID } from 'multiformats/cid'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type IpfsRegistry, type IpfsRegistryInit, ipfsRegistry } from '../../registries/ipfs/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { connectIpfs, errorOf } from '../_helpers/ipfsConnect.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { sampleDraft } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'

let root: string
let dirs = 0
let signer: LocalSigner
let components: StandaloneComponents
const open: IpfsRegistry[] = []

const nextDir = () => join(root, `node-${dirs++}`)
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)
const network = { listen: ['/ip4/127.0.0.1/tcp/0'] }

async function openRegistry(init: IpfsRegistryInit): Promise<IpfsRegistry> {
  const registry = ipfsRegistry({ network, ...init })(components)
  open.push(registry)
  await registry.start()
  return registry
}
async function stopRegistry(registry: IpfsRegistry): Promise<void> {
  open.splice(open.indexOf(registry), 1)
  await registry.stop()
}
/** Overwrites the block file of `cid` in a registry dir with other bytes (a damaged disk, a lying peer). */
async function tamper(dir: string, cid: string): Promise<void> {
  const { dir: sub, file } = new NextToLast().encode(CID.parse(cid))
  await writeFile(join(dir, 'blocks', sub, file), '{"not":"the record"}')
}
const cidOf = (location: string | undefined) => location!.replace('ipfs:/ipfs/', '')

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-net-'))
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

describe('ipfsRegistry networked', () => {
  it("B, following A, fetches A's record over bitswap, verified; it keeps serving it when A is gone, to C too, and across a restart", async () => {
    const a = await openRegistry({ dir: nextDir() })
    const record = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    await a.publish(record)
    const aName = a.ipnsName!
    const bDir = nextDir()
    const b = await openRegistry({ dir: bDir, follow: [aName] })
    await connectIpfs(b, a)
    const entry = await b.lookup('acme.com/image/sharpen')
    expect(text(entry?.bytes)).toBe(text(record.bytes))
    expect(entry?.location).toMatch(/^ipfs:\/ipfs\/b/)
    const names: string[] = []
    for await (const n of b.list('acme.com/**')) names.push(n)
    expect(names).toEqual(['acme.com/image/sharpen'])

    await stopRegistry(a)
    expect(text((await b.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))

    const c = await openRegistry({ dir: nextDir(), follow: [aName] })
    await connectIpfs(c, b)
    expect(text((await c.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))
    await stopRegistry(c)

    await stopRegistry(b)
    // Asked again at once (refresh 0), A unreachable: the kept, pinned copy is served.
    const again = await openRegistry({ dir: bDir, follow: [aName], followRefreshMs: 0 })
    expect(text((await again.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))
  })

  it('error: a rolled-back IPNS root (a publisher restored from an old backup) is refused', async () => {
    const aDir = nextDir()
    const first = await openRegistry({ dir: aDir })
    await first.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    const aName = first.ipnsName!
    await stopRegistry(first)
    const backup = nextDir()
    await cp(aDir, backup, { recursive: true })
    const a = await openRegistry({ dir: aDir })
    await a.publish(await conformanceRecord(signer, 'acme.com/image/blur', 1))

    const bDir = nextDir()
    const b = await openRegistry({ dir: bDir, follow: [aName] })
    await connectIpfs(b, a)
    expect(await b.lookup('acme.com/image/blur')).toBeDefined()
    await stopRegistry(a)
    await stopRegistry(b)
    // B's DHT copy of the newer record ages out (here: removed); only the old publisher answers.
    await rm(join(bDir, 'datastore', 'dht'), { recursive: true, force: true })
    const old = await openRegistry({ dir: backup })
    const again = await openRegistry({ dir: bDir, follow: [aName] })
    await connectIpfs(again, old)
    const err = await errorOf(again.lookup('acme.com/image/missing'))
    expect(isMeshError(err) && err.code).toBe('E_IPNS_ROLLBACK')
    expect((err as Error).message).toContain(aName)
  })

  it('error: a record over maxRecordBytes is refused before it is parsed; a damaged kept block is never served', async () => {
    const a = await openRegistry({ dir: nextDir() })
    const record = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    await a.publish(record)
    const small = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], maxRecordBytes: 100 })
    await connectIpfs(small, a)
    const tooLarge = await errorOf(small.lookup('acme.com/image/sharpen'))
    expect(isMeshError(tooLarge) && tooLarge.code).toBe('E_IPFS_RECORD_TOO_LARGE')
    expect(tooLarge).toMatchObject({ details: { size: record.bytes.byteLength, max: 100 } })

    const bDir = nextDir()
    const b = await openRegistry({ dir: bDir, follow: [a.ipnsName!] })
    await connectIpfs(b, a)
    const entry = await b.lookup('acme.com/image/sharpen')
    await tamper(bDir, cidOf(entry?.location))
    const corrupt = await errorOf(b.lookup('acme.com/image/sharpen'))
    expect(isMeshError(corrupt) && corrupt.code).toBe('E_IPFS_BLOCK_CORRUPT')
  })

  it('error: a publisher serving a block that does not match its CID stalls the fetch only up to the deadline', async () => {
    const aDir = nextDir()
    const a = await openRegistry({ dir: aDir })
    const receipt = await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    await tamper(aDir, cidOf(receipt.location))
    const b = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!], followTimeoutMs: 500 })
    await connectIpfs(b, a)
    // Bitswap hashes what it receives: bytes that are not the block never answer the want.
    const err = await errorOf(b.lookup('acme.com/image/sharpen'))
    expect(isMeshError(err) && err.code).toBe('E_IPFS_FOLLOW_UNREACHABLE')
    expect((err as Error).message).toContain('no answer within 500 ms')
    // The caller's own signal bounds it too.
    const aborted = await errorOf(b.lookup('acme.com/image/sharpen', { signal: AbortSignal.timeout(50) }))
    expect(isMeshError(aborted)).toBe(true)
    expect(aborted).toMatchObject({ code: 'E_ABORTED' })
  })

  it('error: a missing name under an unreachable publisher ends with a clear error, not a hang', async () => {
    const a = await openRegistry({ dir: nextDir() })
    const aName = a.ipnsName!
    await stopRegistry(a)
    const b = await openRegistry({ dir: nextDir(), follow: [aName], followTimeoutMs: 1000 })
    const err = await errorOf(b.lookup('acme.com/image/missing'))
    expect(isMeshError(err) && err.code).toBe('E_IPFS_FOLLOW_UNREACHABLE')
    expect(err).toMatchObject({
      details: { name: 'acme.com/image/missing', failures: [{ publisher: aName }] },
    })
  })

  it('a name none of the reachable publishers holds is not found (undefined)', async () => {
    const a = await openRegistry({ dir: nextDir() })
    await a.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
    const b = await openRegistry({ dir: nextDir(), follow: [a.ipnsName!] })
    await connectIpfs(b, a)
    expect(await b.lookup('acme.com/image/missing')).toBeUndefined()
    expect(await b.lookup('acme.com/nothing')).toBeUndefined()
  })

  it('shares its libp2p node with the peer node: one gossip publish reaches another mesh', async () => {
    const registry = await openRegistry({ dir: nextDir() })
    const libp2p = registry.libp2p!
    const meshes: PeerMesh[] = []
    try {
      meshes.push(
        await startPeerMesh(
          { signer, node: () => ({ libp2p: registry.libp2p! }), registries: () => [registry] },
          0,
        ),
        await startPeerMesh({ signer }, 1),
      )
      const [shared, other] = meshes as [PeerMesh, PeerMesh]
      expect(shared.node.peerId).toBe(registry.libp2p!.peerId.toString())
      await connectAll(meshes)
      await shared.mesh.publish(sampleDraft('acme.com/image/sharpen'), { signer })
      await until(() => heldSeq(other.node, 'acme.com/image/sharpen') === 1, {
        what: 'the other node holds seq 1',
      })
      // The record went into the IPFS registry too, and its node is still the one running.
      expect(registry.status().names).toBe(1)
      // The peer node runs on the registry's node and leaves it alone: it is still started.
      expect(libp2p.status).toBe('started')
    } finally {
      await closePeerMeshes(meshes)
    }
    // The registry owns the node: the mesh stopped the registry, and with it the node.
    expect(libp2p.status).toBe('stopped')
  })

  it('error: follow without a network, or a follow entry that is not an IPNS name, is a ConfigError', () => {
    expect(() =>
      ipfsRegistry({
        dir: nextDir(),
        follow: ['/ipns/k51qzi5uqu5dhfej1u8e2knvgl63am1z37k0wsel1hgodze8pr517bg496u70y'],
      }),
    ).toThrow(/needs `network`/)
    const err = (() => {
      try {
        ipfsRegistry({ dir: nextDir(), network: {}, follow: ['not-a-name'] })
      } catch (e) {
        return e
      }
    })()
    expect(isMeshError(err) && err.code).toBe('E_CONFIG_INVALID')
    expect((err as Error).message).toContain('ipfsRegistry.follow.0')
  })
})
