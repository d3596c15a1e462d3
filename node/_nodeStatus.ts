import type { PeerId } from '@libp2p/interface'
import type { Mesh } from '../src/mesh.js'
import type { RegistryReach } from '../src/preset/types.js'
import type { PeerNode } from './peerNodeOptions.js'

/** One connected peer as `fmesh node peers` shows it. */
export interface NodePeerStatus {
  peerId: string
  addrs: string[]
  /** Round trip in ms, from libp2p's connection monitor or a ping; `null` when neither answered. */
  latencyMs: number | null
  /** Gossipsub's score of the peer (negative after it sent invalid records). */
  score: number
}

/** What `GET /v1/node` answers and `fmesh node status` prints. */
export interface NodeStatus {
  peerId: string
  pid: number
  addrs: string[]
  startedAt: string
  uptimeMs: number
  /** The records the peer node holds (what it gossips and answers lookups from). */
  records: number
  registries: NodeRegistryStatus[]
  peers: NodePeerStatus[]
}

/** One registry of the node; an IPFS registry also says how a reader follows it. */
export interface NodeRegistryStatus {
  id: string
  status: 'ok' | 'error'
  records: number | null
  error?: string
  /** An IPFS registry's IPNS name (`/ipns/k51...`): what a reader puts in its `follow`. */
  ipnsName?: string
  /** The libp2p addresses that registry's node listens on: what a reader dials (`network.bootstrap`). */
  addrs?: string[]
}

/** How long one registry's listing or one ping may take for a status answer. */
const STATUS_STEP_MS = 2_000

/** The node's status now: a registry that cannot list in time says so instead of holding the answer. */
export async function nodeStatus(
  node: PeerNode,
  mesh: Mesh,
  started: { at: number; now: () => number },
  reach: (registry: Mesh['registries'][number]) => RegistryReach | undefined = () => undefined,
): Promise<NodeStatus> {
  const [registries, peers] = await Promise.all([
    Promise.all(mesh.registries.map(async (r) => ({ ...(await registryStatus(r)), ...reachOf(reach(r)) }))),
    Promise.all(node.peers().map((p) => peerStatus(node, p.peerId, p.addrs))),
  ])
  return {
    peerId: node.peerId,
    pid: process.pid,
    addrs: [...node.addrs],
    startedAt: new Date(started.at).toISOString(),
    uptimeMs: Math.max(0, started.now() - started.at),
    records: node.store.size,
    registries,
    peers,
  }
}

function reachOf(reach: RegistryReach | undefined): Pick<NodeRegistryStatus, 'ipnsName' | 'addrs'> {
  return {
    ...(reach?.ipnsName === undefined ? {} : { ipnsName: reach.ipnsName }),
    ...(reach?.addrs === undefined ? {} : { addrs: [...reach.addrs] }),
  }
}

async function registryStatus(r: Mesh['registries'][number]): Promise<NodeRegistryStatus> {
  try {
    let records = 0
    for await (const _ of r.list('**', { signal: AbortSignal.timeout(STATUS_STEP_MS) })) records++
    return { id: r.id, status: 'ok', records }
  } catch (err) {
    return { id: r.id, status: 'error', records: null, error: (err as { code?: string }).code ?? String(err) }
  }
}

async function peerStatus(node: PeerNode, peerId: string, addrs: readonly string[]): Promise<NodePeerStatus> {
  const connections = node.libp2p.getConnections().filter((c) => c.remotePeer.toString() === peerId)
  let latencyMs = connections.map((c) => c.rtt).find((rtt): rtt is number => typeof rtt === 'number') ?? null
  const ping = (node.libp2p.services as { ping?: { ping(peer: PeerId, o: object): Promise<number> } }).ping
  const peer = connections[0]?.remotePeer
  if (latencyMs === null && ping !== undefined && peer !== undefined)
    latencyMs = await ping.ping(peer, { signal: AbortSignal.timeout(STATUS_STEP_MS) }).catch(() => null)
  return { peerId, addrs: [...addrs], latencyMs, score: node.score(peerId) }
}
