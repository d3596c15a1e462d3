import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { peerNode } from '../../node/index.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { until } from '../_helpers/until.js'

/** Every node of a test runs on 127.0.0.1: to each other they are all one host. */
describe('peer node: many peers on one host', () => {
  let signer: LocalSigner
  let meshes: PeerMesh[] = []
  beforeAll(async () => {
    signer = await generateSigner()
  })
  afterEach(async () => {
    await closePeerMeshes(meshes)
    meshes = []
  })

  const start = async (n: number, node?: Parameters<typeof startPeerMesh>[0]['node']) => {
    const started = await Promise.all(
      Array.from({ length: n }, (_, i) => startPeerMesh({ signer, ...(node ? { node } : {}) }, i)),
    )
    meshes.push(...started)
    return started
  }

  // Seven dialers: past libp2p's own per-address default (5 a second), which reset the sixth and seventh.
  it('seven nodes dialling one node at once all connect (one address is not a flood)', async () => {
    const [hub, ...others] = await start(8)
    const dialled = await Promise.all(others.map((m) => m.node.dial(hub!.node.addrs[0]!)))
    expect(dialled).toEqual(others.map(() => hub!.node.peerId))
    await until(() => hub!.node.peers().length === others.length, { what: 'the hub sees all seven' })
    expect(new Set(hub!.node.peers().map((p) => p.peerId))).toEqual(new Set(others.map((m) => m.node.peerId)))
  })

  it('the per-address inbound limit follows maxConnections unless it is set', async () => {
    const [raised, set] = await start(2, (i) =>
      i === 0
        ? { limits: { maxConnections: 300 } }
        : { limits: { maxConnections: 300, inboundConnectionsPerIpPerSecond: 20 } },
    )
    expect(raised!.node.limits).toMatchObject({ maxConnections: 300, inboundConnectionsPerIpPerSecond: 300 })
    expect(set!.node.limits).toMatchObject({ inboundConnectionsPerIpPerSecond: 20 })
  })

  it('the per-address inbound limit still holds: past it, a dial is reset and fails with E_PEER_DIAL naming the limit', async () => {
    const [guarded] = await start(1, () => ({ limits: { inboundConnectionsPerIpPerSecond: 2 } }))
    const others = await start(6)
    const results = await Promise.allSettled(others.map((m) => m.node.dial(guarded!.node.addrs[0]!)))
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
    // Six connects in the same instant: two fit the second's budget, the rest are reset.
    expect(refused.length).toBeGreaterThanOrEqual(1)
    for (const err of refused) {
      expect(err).toMatchObject({ code: 'E_PEER_DIAL' })
      expect((err as unknown as { hint: string }).hint).toContain('inboundConnectionsPerIpPerSecond')
    }
  })

  it.each([
    [{ allow: ['10.0.0.0/8'] }, 'peerNode.allow[0]', 'is not a multiaddr'],
    [{ allow: ['/dns4/example.com'] }, 'peerNode.allow[0]', '/ip4/10.0.0.0/ipcidr/8'],
    [{ limits: { maxPendingInbound: 0 } }, 'peerNode.limits.maxPendingInbound', 'positive integer'],
    [
      { limits: { inboundConnectionsPerIpPerSecond: 2.5 } },
      'peerNode.limits.inboundConnectionsPerIpPerSecond',
      'positive integer',
    ],
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

  it('an allowed network skips the per-address limit', async () => {
    const [guarded] = await start(1, () => ({
      allow: ['/ip4/127.0.0.0/ipcidr/8'],
      limits: { inboundConnectionsPerIpPerSecond: 1, maxPendingInbound: 1 },
    }))
    const others = await start(4)
    await Promise.all(others.map((m) => m.node.dial(guarded!.node.addrs[0]!)))
    await until(() => guarded!.node.peers().length === 4, { what: 'all four connected' })
  })
})
