import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PeerNode, peerNode } from '../../node/index.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { runRegistryConformance } from '../../src/testing/registryConformance.js'
import type { TrustSource } from '../../src/trust/types.js'
import { until } from '../_helpers/until.js'

/** A real mesh with a peer node on 127.0.0.1, trusting what the suite's components trust. */
async function nodeMesh(trust: TrustSource): Promise<{ mesh: Mesh; node: PeerNode; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fmesh-peer-conf-'))
  const factory = peerNode({ syncIntervalMs: 0 })
  let node: PeerNode | undefined
  const mesh = await createMesh({
    services: [
      async (components) => {
        node = await factory(components)
        return node
      },
    ],
    trust,
    dataDir: dir,
  })
  return { mesh, node: node!, dir }
}

let pair: { mesh: Mesh; node: PeerNode; dir: string }[] = []

// Node B's peer registry, connected to node A: what B stores reaches A by gossip (settle waits for
// it), what B lacks it asks A for.
runRegistryConformance({
  name: 'peerRegistry (two libp2p nodes)',
  watch: true,
  async setup(components) {
    pair = await Promise.all([nodeMesh(components.trust), nodeMesh(components.trust)])
    const [a, b] = pair as [(typeof pair)[0], (typeof pair)[0]]
    await b.node.dial(a.node.addrs[0]!)
    return b.node.registry
  },
  async settle() {
    const [a, b] = pair as [(typeof pair)[0], (typeof pair)[0]]
    await until(
      () => [...b.node.store.names()].every((n) => a.node.store.get(n)?.id === b.node.store.get(n)?.id),
      { what: 'node A holds what node B holds' },
    )
  },
  async teardown() {
    await Promise.all(
      pair.map(async ({ mesh, dir }) => {
        await mesh.close()
        await rm(dir, { recursive: true, force: true })
      }),
    )
    pair = []
  },
})
