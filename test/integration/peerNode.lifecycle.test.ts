import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { peerNode } from '../../node/index.js'
import { LOOKUP_PROTOCOL, SYNC_PROTOCOL } from '../../node/limits.js'
import { createMesh } from '../../src/mesh.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { type RawPeer, rawPeer } from '../_helpers/rawPeer.js'
import { sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'
import { until } from '../_helpers/until.js'

describe('peer node: lifecycle, a shared libp2p node, configuration errors', () => {
  let signer: LocalSigner
  let meshes: PeerMesh[] = []
  let dirs: string[] = []
  beforeAll(async () => {
    signer = await generateSigner()
  })
  afterEach(async () => {
    await closePeerMeshes(meshes)
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
    meshes = []
    dirs = []
  })
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-peer-life-'))
    dirs.push(dir)
    return dir
  }

  it('uses a started libp2p node it is given, and leaves it running when the mesh closes', async () => {
    const shared: RawPeer = await rawPeer()
    try {
      const other = await startPeerMesh({ signer })
      meshes.push(other)
      const sharedMesh = await startPeerMesh({ signer, node: () => ({ libp2p: shared as never }) })
      meshes.push(sharedMesh)
      expect(sharedMesh.node.peerId).toBe(shared.peerId.toString())
      await connectAll([other, sharedMesh])
      await other.mesh.publish(sampleDraft('acme.com/image/shared'), { signer })
      await until(() => heldSeq(sharedMesh.node, 'acme.com/image/shared') === 1, {
        what: 'the shared node holds it',
      })
      await sharedMesh.mesh.close()
      expect(shared.status).toBe('started')
      expect(shared.getProtocols()).not.toContain(LOOKUP_PROTOCOL)
      expect(shared.getProtocols()).not.toContain(SYNC_PROTOCOL)
    } finally {
      await shared.stop()
    }
  })

  it('stops cleanly: protocols unhandled, its own libp2p stopped, later work refused with E_PEER_CLOSED', async () => {
    const m = await startPeerMesh({ signer })
    meshes.push(m)
    expect(m.node.libp2p.getProtocols()).toContain(LOOKUP_PROTOCOL)
    await m.mesh.close()
    expect(m.node.libp2p.status).toBe('stopped')
    const err = await rejection(m.node.dial('/ip4/127.0.0.1/tcp/1'))
    expect(err.code).toBe('E_PEER_CLOSED')
    await m.node.stop()
  })

  it('runs a private kad-dht when asked (dht: true), on its own protocol id', async () => {
    const m = await startPeerMesh({ signer, node: () => ({ dht: true }) })
    meshes.push(m)
    expect(m.node.libp2p.services).toHaveProperty('dht')
    expect(m.node.libp2p.getProtocols()).toContain('/fmesh/kad/1.0.0')
  })

  it('error: a libp2p node without gossipsub is refused with E_PEER_LIBP2P_UNSUITABLE', async () => {
    const bare = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    try {
      const err = await rejection(
        createMesh({ services: [peerNode({ libp2p: bare })], dataDir: await tempDir() }).then((m) =>
          m.close(),
        ),
      )
      expect(err.code).toBe('E_PEER_LIBP2P_UNSUITABLE')
      expect(err.message).toContain('services.pubsub')
      expect(bare.status).toBe('started')
    } finally {
      await bare.stop()
    }
  })

  it('error: a corrupt peer key is refused with E_PEER_KEY, never replaced', async () => {
    const dataDir = await tempDir()
    await mkdir(join(dataDir, 'peer'), { recursive: true })
    await writeFile(join(dataDir, 'peer', 'key'), 'not a key')
    const err = await rejection(createMesh({ services: [peerNode()], dataDir }).then((m) => m.close()))
    expect(err.code).toBe('E_PEER_KEY')
    expect(err.message).toContain(join(dataDir, 'peer', 'key'))
  })

  it('error: an address already in use gives E_PEER_LISTEN, and the mesh does not start', async () => {
    const m = await startPeerMesh({ signer })
    meshes.push(m)
    const taken = m.node.addrs[0]!.replace(/\/p2p\/.*$/, '')
    const err = await rejection(
      createMesh({ services: [peerNode({ listen: [taken] })], dataDir: await tempDir() }).then((x) =>
        x.close(),
      ),
    )
    expect(err.code).toBe('E_PEER_LISTEN')
    expect(err.message).toContain(taken)
  })

  it('error: dialing a bad address gives E_PEER_DIAL', async () => {
    const m = await startPeerMesh({ signer })
    meshes.push(m)
    expect((await rejection(m.node.dial('not-a-multiaddr'))).code).toBe('E_PEER_DIAL')
    const unreachable = await rejection(
      m.node.dial('/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDrYPG7rDrkRPv1WreVeqCFSyqcvnGqg7yAuodGd1PxWq'),
    )
    expect(unreachable.code).toBe('E_PEER_DIAL')
  })

  it.each([
    [{ lisen: [] }, 'peerNode.lisen', 'did you mean `listen`'],
    [{ listen: ['nowhere'] }, 'peerNode.listen[0]', 'is not a multiaddr'],
    [{ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }, 'peerNode.bootstrap[0]', '/p2p/<peerId>'],
    [{ limits: { lookupsPerSecond: -1 } }, 'peerNode.limits.lookupsPerSecond', 'positive integer'],
    [{ limits: { lookupsPerSec: 5 } }, 'peerNode.limits.lookupsPerSec', 'did you mean'],
    [{ syncIntervalMs: 1.5 }, 'peerNode.syncIntervalMs', 'integer'],
    [{ dht: 'yes' }, 'peerNode.dht', 'true or false'],
  ])('error: peerNode(%j) is refused with E_CONFIG_INVALID at %s', (init, path, rule) => {
    let err: unknown
    try {
      peerNode(init as never)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path } })
    expect((err as Error).message).toContain(rule)
  })

  it('reports peers and their addresses; peer:disconnect when one leaves', async () => {
    meshes = await Promise.all([startPeerMesh({ signer }), startPeerMesh({ signer })])
    const [a, b] = meshes
    await connectAll([a!, b!])
    expect(a!.node.peers()).toEqual([
      { peerId: b!.node.peerId, addrs: [expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)] },
    ])
    const bId = b!.node.peerId
    await b!.mesh.close()
    await until(() => a!.events.some((e) => e.type === 'peer:disconnect' && e.peerId === bId), {
      what: 'peer:disconnect',
    })
    expect(a!.node.peers()).toEqual([])
  })
})
