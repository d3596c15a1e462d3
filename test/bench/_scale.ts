import { setImmediate as tick } from 'node:timers/promises'
import { chart, quick } from './_harness.js'

/** Record counts of the scale runs: 1,000, 100,000 and 1,000,000 (`--quick`: 1,000 and 10,000). */
export const SCALE_SIZES: readonly number[] = quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000]

/** A stride coprime to every scale size: `(i * STRIDE) % n` visits all n keys in a scattered order. */
export const STRIDE = 7919

/**
 * Heap plus off-heap (ArrayBuffer) bytes in use after full collections: needs `--expose-gc`, which
 * `npm run bench` passes; without it the figure includes garbage and says so.
 */
export async function settledMemory(): Promise<{ heap: number; external: number; exact: boolean }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined)
    for (let k = 0; k < 4; k++) {
      gc()
      await tick()
    }
  const m = process.memoryUsage()
  return { heap: m.heapUsed, external: m.external, exact: gc !== undefined }
}

/** Bytes per item between two settled readings, heap and off-heap together. */
export function perItem(
  before: { heap: number; external: number },
  after: { heap: number; external: number },
  n: number,
): { total: number; heap: number; external: number } {
  const heap = (after.heap - before.heap) / n
  const external = (after.external - before.external) / n
  return { total: heap + external, heap, external }
}

const size = new Intl.NumberFormat('en-US')
/** `1,000,000` */
export const count = (n: number) => size.format(n)

const CHARTS = {
  'scale-memory': { title: 'Memory per record', xLabel: 'records', yLabel: 'bytes per record' },
  'scale-resolve': { title: 'Warm resolve vs awaited Map.get', xLabel: 'names', yLabel: 'ops/s', logY: true },
  'scale-git': { title: 'Git registry: load and verify', xLabel: 'records', yLabel: 'ms', logY: true },
  'scale-git-lookup': { title: 'Git registry: cold lookup', xLabel: 'records', yLabel: 'ops/s', logY: true },
  'scale-ledger': { title: 'Ledger as it grows', xLabel: 'entries', yLabel: 'calls/s', logY: true },
  'scale-ledger-proof': { title: 'Ledger: proof and verify', xLabel: 'entries', yLabel: 'ms', logY: true },
} as const

/** One point of a scale chart (an SVG per chart id in the results folder). */
export function plot(id: keyof typeof CHARTS, series: string, x: number, y: number): void {
  chart({ chart: id, ...CHARTS[id], series, x, y })
}
