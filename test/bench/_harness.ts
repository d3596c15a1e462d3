import Database from 'better-sqlite3'
import '../../src/_polyfill.js'
import { type ChartPoint, formatNumber, type Row } from './_results.js'

/** `npm run bench -- --quick`: measuring windows a quarter as long, the slowest scale points skipped. */
export const quick = process.env.FMESH_BENCH_QUICK === '1'
/** Measuring and warm-up windows are multiplied by this (0.25 in `--quick` mode). */
export const windowScale = quick ? 0.25 : 1

/**
 * Every row and chart point this process measured, in order. Under `npm run bench` each bench file
 * runs in its own child process and each row is also sent to the runner as it is recorded, so rows
 * measured before a crash are kept.
 */
export const results: { group: string; rows: Row[]; charts: ChartPoint[] } = {
  group: process.env.FMESH_BENCH_GROUP ?? 'bench',
  rows: [],
  charts: [],
}

/** Names the group the rows recorded from now on belong to (default: the bench file's name). */
export function group(name: string): void {
  results.group = name
}

/** Records one row of the results table (report, ratio and target call this). */
export function record(row: Omit<Row, 'group'> & { group?: string }): Row {
  const full: Row = { group: results.group, ...row }
  results.rows.push(full)
  process.send?.({ kind: 'row', row: full })
  return full
}

/** Records one point of a scaling chart (one SVG per `chart` id). */
export function chart(point: ChartPoint): void {
  results.charts.push(point)
  process.send?.({ kind: 'chart', point })
}

/** Set while the harness prints, so the runner's console capture does not record the line twice. */
export let printing = false
function print(line: string): void {
  printing = true
  try {
    console.log(line)
  } finally {
    printing = false
  }
}

/** One measured figure. */
export interface Measurement {
  name: string
  opsPerSec: number
  /** Median time of one operation, in microseconds, over the measured batches. */
  medianUs: number
  /** 99th percentile of the per-operation time (a batch's time / its size) across the batches. */
  p99Us?: number
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
  const minMs = (options.minMs ?? 1000) * windowScale
  const warmupMs = (options.warmupMs ?? 200) * windowScale
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
  const p99 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]!
  return {
    name,
    opsPerSec: ops / (total / 1000),
    medianUs: (median * 1000) / batch,
    p99Us: (p99 * 1000) / batch,
    ops,
  }
}

/** Times one run of `work` in milliseconds (for cold, one-shot figures). */
export async function time(work: () => unknown): Promise<number> {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e6
}

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** Prints a figure as `name  N ops/s  (median X us)` and records it as a row. */
export function report(m: Measurement): void {
  const p99 = m.p99Us === undefined ? '' : `, p99 ${m.p99Us.toFixed(3)}`
  print(
    `  ${m.name.padEnd(52)} ${fmt.format(m.opsPerSec).padStart(13)} ops/s  (median ${m.medianUs.toFixed(3)}${p99} us/op)`,
  )
  record({
    name: m.name,
    value: m.opsPerSec,
    unit: 'ops/s',
    medianUs: m.medianUs,
    ...(m.p99Us === undefined ? {} : { p99Us: m.p99Us }),
  })
}

/**
 * Prints `what: A / B = ratio` for a figure against a baseline measured in the same run, and records
 * it as a row (subject's throughput, median and p99; the baseline's name and throughput; the ratio).
 */
export function ratio(label: string, subject: Measurement, baseline: Measurement): void {
  const r = subject.opsPerSec / baseline.opsPerSec
  print(
    `  ratio ${label.padEnd(46)} ${r.toFixed(3)}x  (${fmt.format(subject.opsPerSec)} vs ${fmt.format(baseline.opsPerSec)} ops/s)`,
  )
  record({
    name: label,
    value: subject.opsPerSec,
    unit: 'ops/s',
    medianUs: subject.medianUs,
    ...(subject.p99Us === undefined ? {} : { p99Us: subject.p99Us }),
    baseline: baseline.name,
    baselineValue: baseline.opsPerSec,
    ratio: r,
  })
}

/** Prints a target check line and records it; benchmarks report, they never fail the build. */
export function target(
  label: string,
  value: number,
  goal: number,
  unit: string,
  higherIsBetter = true,
): void {
  const met = higherIsBetter ? value >= goal : value <= goal
  print(
    `  target ${label}: ${formatNumber(value)} ${unit} (goal ${higherIsBetter ? '>=' : '<='} ${formatNumber(goal)}) ${met ? 'MET' : 'NOT MET'}`,
  )
  record({ name: `target: ${label}`, value, unit, target: { goal, higherIsBetter }, met })
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
