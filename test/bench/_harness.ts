import Database from 'better-sqlite3'
import '../../src/_polyfill.js'

/** One measured figure. */
export interface Measurement {
  name: string
  opsPerSec: number
  /** Median time of one operation, in microseconds, over the measured batches. */
  medianUs: number
  ops: number
}

export interface MeasureOptions {
  /** Operations per timed batch (timing each op alone would measure the timer). @default 1000 */
  batch?: number
  /** Minimum measuring time in ms. @default 1000 */
  minMs?: number
  /** Warm-up time in ms. @default 200 */
  warmupMs?: number
}

/**
 * Runs `op` in batches until `minMs` has passed and reports throughput and the median per-op time
 * across batches. `op` may be sync or async; async ops in a batch run one after another.
 */
export async function measure(
  name: string,
  op: (i: number) => unknown,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const batch = options.batch ?? 1000
  const minMs = options.minMs ?? 1000
  const warmupMs = options.warmupMs ?? 200
  let i = 0
  const runBatch = async () => {
    const start = process.hrtime.bigint()
    for (let k = 0; k < batch; k++) {
      const r = op(i++)
      if (r instanceof Promise) await r
    }
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const warmEnd = performance.now() + warmupMs
  while (performance.now() < warmEnd) await runBatch()
  const times: number[] = []
  let total = 0
  while (total < minMs) {
    const ms = await runBatch()
    times.push(ms)
    total += ms
  }
  times.sort((a, b) => a - b)
  const ops = times.length * batch
  const median = times[Math.floor(times.length / 2)]!
  return { name, opsPerSec: ops / (total / 1000), medianUs: (median * 1000) / batch, ops }
}

/** Times one run of `work` in milliseconds (for cold, one-shot figures). */
export async function time(work: () => unknown): Promise<number> {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e6
}

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** Prints a figure as `name  N ops/s  (median X us)`. */
export function report(m: Measurement): void {
  console.log(
    `  ${m.name.padEnd(52)} ${fmt.format(m.opsPerSec).padStart(13)} ops/s  (median ${m.medianUs.toFixed(3)} us/op)`,
  )
}

/** Prints `what: A / B = ratio` for a figure against a baseline measured in the same run. */
export function ratio(label: string, subject: Measurement, baseline: Measurement): void {
  const r = subject.opsPerSec / baseline.opsPerSec
  console.log(
    `  ratio ${label.padEnd(46)} ${r.toFixed(3)}x  (${fmt.format(subject.opsPerSec)} vs ${fmt.format(baseline.opsPerSec)} ops/s)`,
  )
}

/** Prints a target check line; benchmarks report, they never fail the build. */
export function target(
  label: string,
  value: number,
  goal: number,
  unit: string,
  higherIsBetter = true,
): void {
  const met = higherIsBetter ? value >= goal : value <= goal
  console.log(
    `  target ${label}: ${fmt.format(value)} ${unit} (goal ${higherIsBetter ? '>=' : '<='} ${fmt.format(goal)}) ${met ? 'MET' : 'NOT MET'}`,
  )
}

/**
 * The floor of a durable write: a SQLite file set up as the ledger's (exclusive lock, WAL,
 * synchronous=NORMAL) where `commit()` inserts one 400-byte row in its own transaction.
 */
export function bareSqlite(path: string): { commit: () => void; close: () => void } {
  const raw = new Database(path)
  raw.pragma('locking_mode = EXCLUSIVE')
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)')
  const insert = raw.prepare('INSERT INTO t (body) VALUES (?)')
  const body = Buffer.alloc(400)
  return { commit: () => insert.run(body), close: () => raw.close() }
}
