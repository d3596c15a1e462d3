import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PeerNode, peerNode } from '../../node/index.js'
import { RECORDS_TOPIC } from '../../node/limits.js'
import { createMesh } from '../../src/mesh.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { now, RAW_TOPIC, rawKey } from './_propagation.js'

// One node of peer.bench.ts's propagation figures in a process of its own (as a node is on its own
// machine), driven by test/bench/_gossipCluster.ts over the IPC channel: it reports every record it
// verified and stored and every raw message it got, with their times on CLOCK_MONOTONIC.
// Usage (forked): _gossipNode.ts OWNER_KEY_ID
type Request =
  | { id: number; kind: 'dial'; addrs: string[] }
  | { id: number; kind: 'subscribed'; peers: number }
  | { id: number; kind: 'record'; record: EncodedRecord }
  | { id: number; kind: 'raw'; data: Uint8Array }
  | { id: number; kind: 'cpu' }
  | { id: number; kind: 'mesh' }
  | { id: number; kind: 'stop' }

type Pubsub = {
  subscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getSubscribers(topic: string): unknown[]
  getMeshPeers(topic: string): unknown[]
  addEventListener(type: 'message', fn: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void
}

const send = (message: unknown) => process.send!(message)
const dir = await mkdtemp(join(tmpdir(), 'fmesh-gossip-node-'))
const factory = peerNode({ syncIntervalMs: 0 })
let node: PeerNode | undefined
const mesh = await createMesh({
  services: [
    async (c) => {
      node = await factory(c)
      return node
    },
  ],
  trust: { owners: { 'bench.example': [process.argv[2]!] } },
  dataDir: dir,
})
const pubsub = (node!.libp2p.services as { pubsub: Pubsub }).pubsub
pubsub.subscribe(RAW_TOPIC)
mesh.events.on('service', (e) => {
  if (e.type === 'peer:gossip' && e.outcome === 'accepted') send({ kind: 'got', key: e.name, at: now() })
})
pubsub.addEventListener('message', (e) => {
  if (e.detail.topic === RAW_TOPIC) send({ kind: 'got', key: rawKey(e.detail.data), at: now() })
})

async function answer(request: Request): Promise<unknown> {
  switch (request.kind) {
    case 'dial':
      for (const addr of request.addrs) await node!.dial(addr)
      return {}
    case 'subscribed':
      while (![RECORDS_TOPIC, RAW_TOPIC].every((t) => pubsub.getSubscribers(t).length === request.peers))
        await new Promise((resolve) => setTimeout(resolve, 10))
      return {}
    case 'record': {
      const t0 = now()
      await node!.registry.publish(request.record)
      return { t0 }
    }
    case 'raw': {
      const t0 = now()
      await pubsub.publish(RAW_TOPIC, request.data)
      return { t0 }
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage()
      return { us: user + system }
    }
    case 'mesh':
      return {
        records: pubsub.getMeshPeers(RECORDS_TOPIC).length,
        raw: pubsub.getMeshPeers(RAW_TOPIC).length,
      }
    case 'stop':
      await mesh.close()
      await rm(dir, { recursive: true, force: true })
      return {}
  }
}

process.on('message', (request: Request) => {
  answer(request).then(
    (value) => {
      send({ id: request.id, ...(value as object) })
      if (request.kind === 'stop') process.disconnect()
    },
    (err: unknown) => send({ id: request.id, error: (err as Error).message }),
  )
})
send({ kind: 'ready', addr: node!.addrs[0] })
