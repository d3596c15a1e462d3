import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { peerNode } from '../../node/index.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { sampleDraft } from '../_helpers/records.js'
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

  it('nine nodes dialling one node at once all connect (one address is not a flood)', async () => {
    const [hub, ...others] = await start(10)
    const dialled = await Promise.all(others.map((m) => m.node.dial(hub!.node.addrs[0]!)))
    expect(dialled).toEqual(others.map(() => hub!.node.peerId))
    await until(() => hub!.node.peers().length === others.length, { what: 'the hub sees all nine' })
    expect(new Set(hub!.node.peers().map((p) => p.peerId))).toEqual(new Set(others.map((m) => m.node.peerId)))
  })

  it('ten nodes dialled pairwise form a full mesh, and a record published on one is stored on all ten', async () => {
    const nodes = await start(10)
    await connectAll(nodes)
    for (const m of nodes) expect(m.node.peers()).toHaveLength(9)
    const name = 'acme.com/image/ten'
    await nodes[3]!.mesh.publish(sampleDraft(name), { signer })
    await until(() => nodes.every((m) => heldSeq(m.node, name) === 1), { what: 'every node holds seq 1' })
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
