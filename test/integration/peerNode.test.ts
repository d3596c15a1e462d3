import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'
import { until } from '../_helpers/until.js'

describe('peer node: records shared over libp2p', () => {
  let signer: LocalSigner
  let meshes: PeerMesh[] = []
  beforeAll(async () => {
    signer = await generateSigner()
  })
  afterEach(async () => {
    await closePeerMeshes(meshes)
    meshes = []
  })

  const start = async (n: number) => {
    const started = await Promise.all(Array.from({ length: n }, (_, i) => startPeerMesh({ signer }, i)))
    meshes.push(...started)
    return started
  }

  it('a record published on one node is verified and stored on every other, which resolves it from its own store', async () => {
    const nodes = await start(4)
    await connectAll(nodes)
    const name = 'acme.com/image/sharpen'
    await nodes[0]!.mesh.publish(sampleDraft(name), { signer })
    await until(() => nodes.every((m) => heldSeq(m.node, name) === 1), { what: 'every node holds seq 1' })
    for (const m of nodes.slice(1)) {
      const r = await m.mesh.resolve(`${name}@^1.2`)
      expect(r.version).toBe('1.4.1')
      expect(r.source).toMatchObject({ kind: 'registry', registry: 'peer', location: `peer:${r.recordId}` })
      expect(
        m.events.some((e) => e.type === 'peer:gossip' && e.outcome === 'accepted' && e.name === name),
      ).toBe(true)
    }
    expect(nodes[1]!.events.some((e) => e.type === 'peer:connect')).toBe(true)
  })
})
