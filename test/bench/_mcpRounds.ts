import { readFileSync } from 'node:fs'
import { type Measurement, quick } from './_harness.js'

/** One side of the MCP bench: a call made one at a time. */
export interface Side {
  name: string
  op: () => unknown
}

/** A side's figures: wall time per call, and CPU per call in this process and its child processes. */
export interface RoundMeasurement extends Measurement {
  /** CPU microseconds per call, this process (all its threads) plus its children; undefined without /proc. */
  cpuUs?: number
  /** The children's part of `cpuUs` (the MCP servers). */
  childCpuUs?: number
}

/**
 * Calls made before any figure, on every side, in `--quick` too: a server process starts cold on its
 * first call and its JIT warms over the first thousand or so; a time-based warm-up shorter than that
 * measured the governed side (the first to use the transport's server) half cold.
 */
export const WARM_CALLS = 2_000
/** Interleaved rounds, and calls per side per round. */
const ROUNDS = quick ? 7 : 15
const BATCH = quick ? 150 : 400
/** The caller's gap between direct calls in the spin/sleep pair, about what governance takes. */
export const GAP_US = 50

const shared = new Int32Array(new SharedArrayBuffer(4))
/** Keeps this thread busy for `us` microseconds. */
export function spin(us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000))
  while (process.hrtime.bigint() < end);
}
/** Puts this thread to sleep for `us` microseconds. */
export function sleep(us: number): void {
  Atomics.wait(shared, 0, 0, us / 1000)
}

/** CPU microseconds the child processes of this one have run (Linux /proc); undefined elsewhere. */
function childrenCpuUs(): number | undefined {
  try {
    const list = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim()
    let ns = 0
    for (const pid of list === '' ? [] : list.split(/\s+/)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // a child that exited between the two reads
      }
    }
    return ns / 1000
  } catch {
    return undefined
  }
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/**
 * Warms every side with {@link WARM_CALLS} calls, then runs the sides in turn, round after round, so
 * that load which comes and goes falls on all of them alike. Each figure is the median over rounds
 * of the per-call wall time (and CPU time); p99 is the slowest round.
 */
export async function interleaved(sides: readonly Side[]): Promise<RoundMeasurement[]> {
  const run = async (op: Side['op'], calls: number) => {
    for (let i = 0; i < calls; i++) {
      const r = op()
      if (r instanceof Promise) await r
    }
  }
  for (const side of sides) await run(side.op, WARM_CALLS)
  const wall = sides.map(() => [] as number[])
  const cpu = sides.map(() => [] as number[])
  const child = sides.map(() => [] as number[])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, side] of sides.entries()) {
      const kids = childrenCpuUs()
      const used = process.cpuUsage()
      const start = process.hrtime.bigint()
      await run(side.op, BATCH)
      wall[k]!.push(Number(process.hrtime.bigint() - start) / 1000 / BATCH)
      const mine = process.cpuUsage(used)
      const after = childrenCpuUs()
      const theirs = kids === undefined || after === undefined ? Number.NaN : (after - kids) / BATCH
      child[k]!.push(theirs)
      cpu[k]!.push((mine.user + mine.system) / BATCH + theirs)
    }
  }
  return sides.map((side, k) => {
    const medianUs = median(wall[k]!)
    const cpuUs = median(cpu[k]!)
    return {
      name: side.name,
      opsPerSec: 1e6 / medianUs,
      medianUs,
      p99Us: Math.max(...wall[k]!),
      ops: ROUNDS * BATCH,
      ...(Number.isNaN(cpuUs) ? {} : { cpuUs, childCpuUs: median(child[k]!) }),
    }
  })
}

/** `X us (server Y)` for a side's CPU per call, less `less` us (a spin the caller did on purpose). */
export function cpuText(m: RoundMeasurement, less = 0): string {
  if (m.cpuUs === undefined) return 'n/a'
  return `${(m.cpuUs - less).toFixed(1)} us (server ${m.childCpuUs!.toFixed(1)})`
}
