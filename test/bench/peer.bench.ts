import '../../src/_polyfill.js'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { type PeerNode, type PeerNodeInit, peerNode } from '../../node/index.js'
import { RECORDS_TOPIC } from '../../node/limits.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'
import { target, time } from './_harness.js'

const RAW_TOPIC = '/fmesh-bench/raw/1'
const here = dirname(fileURLToPath(import.meta.url))
const RAW_TRANSFER = '/fmesh-bench/transfer/1.0.0'
const ROUNDS = 40
const CATCH_UP = 10_000

interface Node {
  mesh: Mesh
  node: PeerNode
  dir: string
}

type Pubsub = {
  subscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getSubscribers(topic: string): unknown[]
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

/**
 * Publish on node 0 until the record is verified and stored on every other node (their `peer:gossip`
 * accepted events), beside raw gossipsub delivery of a message of the same size on the same nodes.
 */
async function propagation(signer: LocalSigner, size: number): Promise<void> {
  const nodes = await Promise.all(Array.from({ length: size }, () => startNode(signer)))
  try {
    for (let i = 0; i < size; i++)
      for (let j = i + 1; j < size; j++) await nodes[i]!.node.dial(nodes[j]!.node.addrs[0]!)
    const stored = new Map<string, number[]>()
    const raw = new Map<string, number[]>()
    for (const n of nodes) {
      pubsubOf(n).subscribe(RAW_TOPIC)
      n.mesh.events.on('service', (e) => {
        if (e.type === 'peer:gossip' && e.outcome === 'accepted')
          stored.get(e.name as string)?.push(performance.now())
      })
      pubsubOf(n).addEventListener('message', (e) => {
        if (e.detail.topic === RAW_TOPIC)
          raw.get(Buffer.from(e.detail.data.subarray(0, 16)).toString('hex'))?.push(performance.now())
      })
    }
    await until(
      () =>
        nodes.every((n) =>
          [RECORDS_TOPIC, RAW_TOPIC].every((t) => pubsubOf(n).getSubscribers(t).length === size - 1),
        ),
      { timeoutMs: 20_000, what: 'subscriptions' },
    )
    const records: EncodedRecord[] = []
    for (let i = 0; i < ROUNDS + 5; i++)
      records.push(await signed(signer, `bench.example/prop${size}/fn-${i}`, 1))
    const bytes = records[0]!.bytes.byteLength
    const ours: number[] = []
    const base: number[] = []
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      stored.set(record.record.name, [])
      const t0 = performance.now()
      await nodes[0]!.node.registry.publish(record)
      await until(() => stored.get(record.record.name)!.length === size - 1, { what: 'stored everywhere' })
      if (i >= 5) ours.push(Math.max(...stored.get(record.record.name)!) - t0)

      const data = crypto.getRandomValues(new Uint8Array(bytes))
      const key = Buffer.from(data.subarray(0, 16)).toString('hex')
      raw.set(key, [])
      const t1 = performance.now()
      await pubsubOf(nodes[0]!).publish(RAW_TOPIC, data)
      await until(() => raw.get(key)!.length === size - 1, { what: 'raw delivered everywhere' })
      if (i >= 5) base.push(Math.max(...raw.get(key)!) - t1)
    }
    ours.sort((a, b) => a - b)
    base.sort((a, b) => a - b)
    console.log(
      `  propagation to ${size} nodes, ${bytes}-byte record: p50 ${pct(ours, 0.5).toFixed(2)} ms, p95 ${pct(ours, 0.95).toFixed(2)} ms` +
        `  | raw gossipsub p50 ${pct(base, 0.5).toFixed(2)} ms, p95 ${pct(base, 0.95).toFixed(2)} ms`,
    )
    console.log(
      `  ratio p95 propagation / raw gossipsub (${size} nodes) ${(pct(ours, 0.95) / pct(base, 0.95)).toFixed(3)}x`,
    )
    if (size === 10) target('p95 propagation, 10 nodes', pct(ours, 0.95), 100, 'ms', false)
  } finally {
    await stopAll(nodes)
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

/** Peer node: gossip propagation (3 and 10 nodes), lookup round trip, anti-entropy catch-up. */
export default async function peerBench(): Promise<void> {
  const signer = await generateSigner()
  await propagation(signer, 3)
  await propagation(signer, 10)
  await lookupAndCatchUp()
}
