import type { EncodedRecord } from '../../src/record/signRecord.js'
import type { LocalSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { target } from './_harness.js'

/** Gossip topic of the raw baseline: messages of a record's size, no validator. */
export const RAW_TOPIC = '/fmesh-bench/raw/1'
/** Measured rounds of each side (after WARM_UP rounds of each, not counted). */
export const ROUNDS = 150
const WARM_UP = 10
/**
 * Pause after a round's last delivery before the next round starts, so its tail (forwarded copies,
 * IDONTWANTs, the cache drops) is not charged to the next round of the other side, and that tail's
 * CPU is counted with its own round.
 */
const SETTLE_MS = 15
/** The longest a round may take before the bench gives up on it. */
const ROUND_TIMEOUT_MS = 20_000

/** Milliseconds on CLOCK_MONOTONIC: one clock for every process on the machine. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6

/**
 * N peer nodes all connected to each other and subscribed to the records topic and RAW_TOPIC. Node 0
 * publishes; a round is over when every other node reported the record verified and stored (or the
 * raw message delivered).
 */
export interface Cluster {
  readonly size: number
  /** Where the nodes run, for the printed lines (`one process`, `a process each`). */
  readonly where: string
  /** Publishes `record` on node 0; resolves with when node 0 started (`now()`) and every other node's stored time. */
  record(record: EncodedRecord): Promise<{ t0: number; at: number[] }>
  /** Publishes `data` on RAW_TOPIC from node 0; resolves as `record` does. */
  raw(data: Uint8Array): Promise<{ t0: number; at: number[] }>
  /** CPU time (user + system, every thread, µs) of every node so far. */
  cpu(): Promise<number>
  /** Each node's gossipsub mesh size on the records topic and on RAW_TOPIC. */
  meshes(): Promise<{ records: number[]; raw: number[] }>
  stop(): Promise<void>
}

/** Resolves once `count` times were pushed for a key: one deferred per round. */
export class Deliveries {
  private readonly waiting = new Map<string, { at: number[]; count: number; done: (at: number[]) => void }>()

  expect(key: string, count: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`round ${key}: ${this.waiting.get(key)?.at.length} of ${count} deliveries`)),
        ROUND_TIMEOUT_MS,
      )
      this.waiting.set(key, {
        at: [],
        count,
        done: (at) => {
          clearTimeout(timer)
          this.waiting.delete(key)
          resolve(at)
        },
      })
    })
  }

  push(key: string, at: number): void {
    const round = this.waiting.get(key)
    if (round === undefined) return
    round.at.push(at)
    if (round.at.length === round.count) round.done(round.at)
  }
}

export const rawKey = (data: Uint8Array): string => Buffer.from(data.subarray(0, 16)).toString('hex')

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/**
 * Publish on node 0 until the record is verified and stored on every other node, beside raw
 * gossipsub delivery of a message of the same size on the same nodes. Rounds alternate which side
 * goes first and are spaced by SETTLE_MS; CPU is counted per side over whole rounds (tails included)
 * and given per delivered record (a round's CPU over the size - 1 receivers).
 */
export async function measurePropagation(cluster: Cluster, signer: LocalSigner): Promise<void> {
  const { size, where } = cluster
  const records: EncodedRecord[] = []
  for (let i = 0; i < ROUNDS + WARM_UP; i++)
    records.push(await signed(signer, `bench.example/prop${size}-${where.replace(/\W/g, '')}/fn-${i}`, 1))
  const bytes = records[0]!.bytes.byteLength
  // Both topics were joined before the nodes connected, so their meshes form alike; rounds start once
  // every node's mesh holds gossipsub's D_lo (4) peers, or every peer when there are fewer.
  const full = Math.min(4, size - 1)
  const deadline = Date.now() + ROUND_TIMEOUT_MS
  for (;;) {
    const { records: r, raw } = await cluster.meshes()
    if ([...r, ...raw].every((n) => n >= full)) break
    if (Date.now() > deadline) throw new Error(`gossipsub meshes did not form: ${r} and ${raw}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const ours: number[] = []
  const base: number[] = []
  const cpu = { ours: 0, base: 0 }
  const round = async (side: 'ours' | 'base', i: number) => {
    const c0 = await cluster.cpu()
    const { t0, at } =
      side === 'ours'
        ? await cluster.record(records[i]!)
        : await cluster.raw(crypto.getRandomValues(new Uint8Array(bytes)))
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    if (i < WARM_UP) return
    ;(side === 'ours' ? ours : base).push(Math.max(...at) - t0)
    cpu[side] += (await cluster.cpu()) - c0
  }
  for (let i = 0; i < records.length; i++) {
    const order = i % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const)
    for (const side of order) await round(side, i)
  }
  const meshes = await cluster.meshes()
  const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)
  ours.sort((a, b) => a - b)
  base.sort((a, b) => a - b)
  const perRecord = (us: number) => (us / ROUNDS / (size - 1)).toFixed(0)
  console.log(
    `  propagation to ${size} nodes (${where}), ${bytes}-byte record, ${ROUNDS} rounds: p50 ${pct(ours, 0.5).toFixed(2)} ms, p95 ${pct(ours, 0.95).toFixed(2)} ms` +
      `  | raw gossipsub p50 ${pct(base, 0.5).toFixed(2)} ms, p95 ${pct(base, 0.95).toFixed(2)} ms`,
  )
  console.log(
    `  CPU per delivered record, whole rounds (${size} nodes, ${where}): ${perRecord(cpu.ours)} us  | raw gossipsub ${perRecord(cpu.base)} us` +
      ` (${perRecord(cpu.ours - cpu.base)} us more)` +
      `  (mean mesh size ${mean(meshes.records)} peers on the records topic, ${mean(meshes.raw)} on the raw one)`,
  )
  console.log(
    `  ratio p95 propagation / raw gossipsub (${size} nodes, ${where}) ${(pct(ours, 0.95) / pct(base, 0.95)).toFixed(3)}x`,
  )
  console.log(
    `  ratio p50 propagation / raw gossipsub (${size} nodes, ${where}) ${(pct(ours, 0.5) / pct(base, 0.5)).toFixed(3)}x`,
  )
  if (size === 10) target(`p95 propagation, 10 nodes (${where})`, pct(ours, 0.95), 100, 'ms', false)
}
