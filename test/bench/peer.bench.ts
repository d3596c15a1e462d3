import '../../src/_polyfill.js'
import { spawn } from 'node:child_process'
import { verify } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { type PeerNode, type PeerNodeInit, peerNode } from '../../node/index.js'
import { RECORDS_TOPIC } from '../../node/limits.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { signingPayload } from '../../src/record/codec.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { generateSigner, type LocalSigner, publicKeyObject } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'
import { processEach } from './_gossipCluster.js'
import { target, time } from './_harness.js'
import { type Cluster, Deliveries, measurePropagation, now, RAW_TOPIC, rawKey } from './_propagation.js'
import { cpuPerOp, threadCpu } from './_threadCpu.js'

const here = dirname(fileURLToPath(import.meta.url))
const RAW_TRANSFER = '/fmesh-bench/transfer/1.0.0'
const CATCH_UP = 10_000
/** Records fed to the receive path's validator. */
const RECEIVED = 2000

type Validator = (peer: PeerId, message: { topic: string; data: Uint8Array }) => Promise<unknown>

interface Node {
  mesh: Mesh
  node: PeerNode
  dir: string
}

type Pubsub = {
  subscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getSubscribers(topic: string): unknown[]
  getMeshPeers(topic: string): unknown[]
  addEventListener(type: 'message', fn: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void): void
}
const pubsubOf = (n: Node) => (n.node.libp2p.services as { pubsub: Pubsub }).pubsub

async function startNode(signer: LocalSigner, init: PeerNodeInit = {}): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'fmesh-peer-bench-'))
  const factory = peerNode({ syncIntervalMs: 0, ...init })
  let node: PeerNode | undefined
  const mesh = await createMesh({
    services: [
      async (c) => {
        node = await factory(c)
        return node
      },
    ],
    trust: { owners: { 'bench.example': [signer.id] } },
    dataDir: dir,
  })
  return { mesh, node: node!, dir }
}

async function stopAll(nodes: readonly Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      await n.mesh.close()
      await rm(n.dir, { recursive: true, force: true })
    }),
  )
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** `size` nodes in this process, all on one event loop: a node's work delays every other node's. */
async function oneProcess(signer: LocalSigner, size: number): Promise<Cluster> {
  const nodes = await Promise.all(Array.from({ length: size }, () => startNode(signer)))
  const deliveries = new Deliveries()
  for (const n of nodes) {
    pubsubOf(n).subscribe(RAW_TOPIC)
    n.mesh.events.on('service', (e) => {
      if (e.type === 'peer:gossip' && e.outcome === 'accepted') deliveries.push(e.name as string, now())
    })
    pubsubOf(n).addEventListener('message', (e) => {
      if (e.detail.topic === RAW_TOPIC) deliveries.push(rawKey(e.detail.data), now())
    })
  }
  for (let i = 0; i < size; i++)
    for (let j = i + 1; j < size; j++) await nodes[i]!.node.dial(nodes[j]!.node.addrs[0]!)
  await until(
    () =>
      nodes.every((n) =>
        [RECORDS_TOPIC, RAW_TOPIC].every((t) => pubsubOf(n).getSubscribers(t).length === size - 1),
      ),
    { timeoutMs: 20_000, what: 'subscriptions' },
  )
  return {
    size,
    where: 'one process',
    async record(record) {
      const stored = deliveries.expect(record.record.name, size - 1)
      const t0 = now()
      await nodes[0]!.node.registry.publish(record)
      return { t0, at: await stored }
    },
    async raw(data) {
      const delivered = deliveries.expect(rawKey(data), size - 1)
      const t0 = now()
      await pubsubOf(nodes[0]!).publish(RAW_TOPIC, data)
      return { t0, at: await delivered }
    },
    async cpu() {
      const { user, system } = process.cpuUsage()
      return user + system
    },
    async meshes() {
      const sizes = (topic: string) => nodes.map((n) => pubsubOf(n).getMeshPeers(topic).length)
      return { records: sizes(RECORDS_TOPIC), raw: sizes(RAW_TOPIC) }
    },
    stop: () => stopAll(nodes),
  }
}

/** Propagation with every node in this process, then with every node in a process of its own. */
export async function propagation(signer: LocalSigner, size: number): Promise<void> {
  for (const start of [oneProcess, processEach]) {
    const cluster = await start(signer, size)
    try {
      await measurePropagation(cluster, signer)
    } finally {
      await cluster.stop()
    }
  }
}

/**
 * CPU per record of the gossip receive path alone, on one node: the records topic's validator (size,
 * parse, schema, ed25519, rollback, store, report) fed fresh records one at a time, beside the bare
 * ed25519 check of the same records' signatures (the one step no record can skip).
 */
export async function receivePath(signer: LocalSigner): Promise<void> {
  const n = await startNode(signer)
  try {
    const validate = (
      n.node.libp2p.services as { pubsub: { topicValidators: Map<string, Validator> } }
    ).pubsub.topicValidators.get(RECORDS_TOPIC)!
    const from = n.node.libp2p.peerId
    const records: EncodedRecord[] = []
    for (let i = 0; i < RECEIVED + 200; i++)
      records.push(await signed(signer, `bench.example/receive/fn-${i}`, 1))
    const key = publicKeyObject(signer.id)!
    const checks = records.map((r) => ({
      payload: signingPayload(r.record as unknown as Record<string, unknown>),
      sig: Buffer.from(r.record.signatures[0]!.sig, 'base64url'),
    }))
    const cpu = async (from: number, to: number, op: (i: number) => unknown) => {
      const c0 = process.cpuUsage()
      const t0 = threadCpu()
      for (let i = from; i < to; i++) await op(i)
      const { user, system } = process.cpuUsage(c0)
      return { all: (user + system) / (to - from), main: cpuPerOp(t0, threadCpu(), to - from)?.main }
    }
    const receive = (i: number) => validate(from, { topic: RECORDS_TOPIC, data: records[i]!.bytes })
    const ed25519 = (i: number) => verify(null, checks[i]!.payload, key, checks[i]!.sig)
    await cpu(RECEIVED, RECEIVED + 200, receive)
    await cpu(0, RECEIVED, ed25519)
    const path = await cpu(0, RECEIVED, receive)
    const bare = await cpu(0, RECEIVED, ed25519)
    if (n.node.store.size !== RECEIVED + 200) throw new Error(`stored ${n.node.store.size} records`)
    const main = path.main === undefined ? '' : ` (${path.main.toFixed(0)} us on the main thread)`
    console.log(
      `  gossip receive path, ${records[0]!.bytes.byteLength}-byte record: ${path.all.toFixed(1)} us CPU per record${main}` +
        `  | ed25519 check of its signature alone ${bare.all.toFixed(1)} us`,
    )
    console.log(
      `  ratio CPU per record, gossip receive path / ed25519 check ${(path.all / bare.all).toFixed(3)}x`,
    )
  } finally {
    await stopAll([n])
  }
}

/** Starts test/bench/_peerServer.ts in its own process; resolves once it holds its records. */
async function startServer(count: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, '_peerServer.ts'), String(count), RAW_TRANSFER],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  const ready = await new Promise<{ addr: string; keyId: string; bytes: number }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!))
    })
    child.once('exit', (code) => reject(new Error(`the bench server exited with ${code}`)))
  })
  return {
    ...ready,
    stop: () => new Promise<void>((resolve) => child.once('exit', () => resolve()).kill('SIGTERM')),
  }
}

/**
 * Against a peer in another process holding 10,000 records: the lookup round trip (ask, verify,
 * store) beside a libp2p ping, then a whole catch-up by anti-entropy beside one raw stream of the
 * same bytes.
 */
export async function lookupAndCatchUp(): Promise<void> {
  const server = await startServer(CATCH_UP)
  const signer = { id: server.keyId } as LocalSigner
  const b = await startNode(signer, { syncOnConnect: false })
  const c = await startNode(signer, { syncOnConnect: false })
  try {
    const serverId = peerIdFromString(server.addr.split('/p2p/')[1]!)
    await b.node.dial(server.addr)
    await c.node.dial(server.addr)

    const ping = b.node.libp2p.services.ping as { ping(peer: unknown): Promise<number> }
    const pings: number[] = []
    for (let i = 0; i < 200; i++) pings.push(await time(() => ping.ping(serverId)))
    const lookups: number[] = []
    for (let i = 0; i < 500; i++)
      lookups.push(await time(() => b.node.registry.lookup(`bench.example/set/fn-${i}`)))
    lookups.sort((x, y) => x - y)
    pings.sort((x, y) => x - y)
    console.log(
      `  lookup round trip (ask, verify, store): p50 ${pct(lookups, 0.5).toFixed(3)} ms, p95 ${pct(lookups, 0.95).toFixed(3)} ms` +
        `  | libp2p ping p50 ${pct(pings, 0.5).toFixed(3)} ms`,
    )
    console.log(`  ratio lookup / ping (p50) ${(pct(lookups, 0.5) / pct(pings, 0.5)).toFixed(3)}x`)
    target('lookup round trip p50', pct(lookups, 0.5), 5, 'ms', false)

    const rawMs = await time(async () => {
      const stream = await c.node.libp2p.dialProtocol(serverId, RAW_TRANSFER)
      const lp = lpStream(stream, { maxDataLength: 1 << 20, maxBufferSize: 1 << 26 })
      for (let i = 0; i < CATCH_UP; i++) await lp.read()
      await stream.close()
    })
    let report: Awaited<ReturnType<PeerNode['sync']>>[number] | undefined
    const syncMs = await time(async () => {
      ;[report] = await c.node.sync(serverId.toString())
    })
    if (report?.accepted !== CATCH_UP)
      throw new Error(`catch-up accepted ${report?.accepted}, expected ${CATCH_UP}`)
    console.log(
      `  anti-entropy catch-up of ${CATCH_UP} records (${(server.bytes / 1e6).toFixed(1)} MB) from another process, verified and stored: ${syncMs.toFixed(0)} ms` +
        `  | raw transfer of the same bytes over one stream: ${rawMs.toFixed(0)} ms`,
    )
    console.log(`  ratio catch-up / raw transfer ${(syncMs / rawMs).toFixed(3)}x`)
    target(`catch-up of ${CATCH_UP} records`, syncMs, 2000, 'ms', false)
  } finally {
    await stopAll([b, c])
    await server.stop()
  }
}

/** Peer node: the gossip receive path's CPU, gossip propagation (3 and 10 nodes), lookup round trip, anti-entropy catch-up. */
export default async function peerBench(): Promise<void> {
  const signer = await generateSigner()
  await receivePath(signer)
  await propagation(signer, 3)
  await propagation(signer, 10)
  await lookupAndCatchUp()
}
