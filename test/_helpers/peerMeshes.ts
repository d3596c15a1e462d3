import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PeerNode, type PeerNodeInit, peerNode } from '../../node/index.js'
import { RECORDS_TOPIC } from '../../node/limits.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { Registry } from '../../src/registry/types.js'
import type { LocalSigner } from '../../src/trust/signer.js'
import { until } from './until.js'

/** One mesh with a peer node, and the `service` events it emitted. */
export interface PeerMesh {
  readonly mesh: Mesh
  readonly node: PeerNode
  readonly events: { type: string; [key: string]: unknown }[]
  readonly dataDir: string
}

export interface PeerMeshesInit {
  signer: LocalSigner
  namespaces?: readonly string[]
  node?: (i: number) => PeerNodeInit
  registries?: (i: number) => Registry[]
}

/** Starts a mesh with a peer node on 127.0.0.1 (its own data dir, trust pinned to `signer`). */
export async function startPeerMesh(init: PeerMeshesInit, i = 0): Promise<PeerMesh> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fmesh-peer-'))
  const factory = peerNode({ syncIntervalMs: 0, ...init.node?.(i) })
  let node: PeerNode | undefined
  const mesh = await createMesh({
    registries: init.registries?.(i) ?? [],
    services: [
      async (components) => {
        node = await factory(components)
        return node
      },
    ],
    trust: {
      owners: Object.fromEntries((init.namespaces ?? ['acme.com']).map((ns) => [ns, [init.signer.id]])),
    },
    dataDir,
  })
  const events: PeerMesh['events'] = []
  mesh.events.on('service', (e) => events.push(e))
  return { mesh, node: node!, events, dataDir }
}

/** Closes the meshes (which stops their nodes) and removes their data dirs. */
export async function closePeerMeshes(meshes: readonly PeerMesh[]): Promise<void> {
  await Promise.all(
    meshes.map(async (m) => {
      await m.mesh.close()
      await rm(m.dataDir, { recursive: true, force: true })
    }),
  )
}

/** Dials every pair, then waits until every node sees every other subscribed to the records topic. */
export async function connectAll(meshes: readonly PeerMesh[]): Promise<void> {
  for (let i = 0; i < meshes.length; i++)
    for (let j = i + 1; j < meshes.length; j++) await meshes[i]!.node.dial(meshes[j]!.node.addrs[0]!)
  await until(() => meshes.every((m) => subscribers(m.node) >= meshes.length - 1), {
    what: 'every node subscribed on every other',
  })
}

export function subscribers(node: PeerNode): number {
  const pubsub = (node.libp2p.services as { pubsub: { getSubscribers(topic: string): unknown[] } }).pubsub
  return pubsub.getSubscribers(RECORDS_TOPIC).length
}

/** The seq a node's store holds for `name`. */
export function heldSeq(node: PeerNode, name: string): number | undefined {
  return node.store.get(name)?.seq
}
