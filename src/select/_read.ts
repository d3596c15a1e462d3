import { CurrencyMismatchError, RandomSourceInvalidError, StatsInvalidError } from '../errors/select.js'
import type { Rate, RateTable } from './RateTable.js'
import type { Candidate, Strategy, StrategyChoice, StrategyInput } from './types.js'

/** Marks built-in strategies, whose choices the selector need not re-check. */
export const BUILT_IN = Symbol('fmesh.builtInStrategy')

/** Names a strategy function and marks it built-in. */
export function builtIn(name: string, fn: (input: StrategyInput) => StrategyChoice): Strategy {
  Object.defineProperty(fn, 'strategyName', { value: name })
  Object.defineProperty(fn, BUILT_IN, { value: true })
  return fn as Strategy
}

/** A uniform index in [0, n), checking the injected source. */
export function draw(random: () => number, n: number): number {
  const r = random()
  if (!(r >= 0 && r < 1)) throw new RandomSourceInvalidError(r)
  return Math.floor(r * n)
}

function bad(c: Candidate, field: string, value: unknown): never {
  throw new StatsInvalidError(c.provider.id, field, value)
}

/** Observed EWMA latency, checked. */
export function observedLatency(c: Candidate, now: number): number | undefined {
  const v = c.stats.latencyMs(now)
  if (v !== undefined && !(v >= 0 && v < Number.POSITIVE_INFINITY)) bad(c, 'latencyMs', v)
  return v
}

/** Observed latency, else the advertised `avgResponseTimeMs`, else `undefined`. */
export function expectedLatency(c: Candidate, now: number): number | undefined {
  return observedLatency(c, now) ?? c.provider.avgResponseTimeMs
}

/** Peak-EWMA latency, checked. */
export function peakLatency(c: Candidate, now: number): number | undefined {
  const v = c.stats.peakLatencyMs(now)
  if (v !== undefined && !(v >= 0 && v < Number.POSITIVE_INFINITY)) bad(c, 'peakLatencyMs', v)
  return v
}

export function inFlight(c: Candidate): number {
  const v = c.stats.inFlight
  if (!(Number.isInteger(v) && v >= 0)) bad(c, 'inFlight', v)
  return v
}

export function samples(c: Candidate): number {
  const v = c.stats.samples
  if (!(Number.isInteger(v) && v >= 0)) bad(c, 'samples', v)
  return v
}

export function successRatio(c: Candidate, now: number): number | undefined {
  const v = c.stats.successRatio(now)
  if (v !== undefined && !(v >= 0 && v <= 1)) bad(c, 'successRatio', v)
  return v
}

/**
 * The exact rate of each candidate's currency against a common reference, or `undefined` when every
 * priced candidate uses the same currency (then costs compare directly). Unpriced candidates (cost 0)
 * compare with anything. Different currencies without rates are a {@link CurrencyMismatchError}.
 */
export function commonRates(
  candidates: readonly Candidate[],
  rates: RateTable | undefined,
): Rate[] | undefined {
  let unit: string | undefined
  let mixed = false
  for (const c of candidates) {
    if (c.unit === undefined || c.cost === 0n) continue
    if (unit === undefined) unit = c.unit
    else if (c.unit !== unit) mixed = true
  }
  if (!mixed) return undefined
  const units = [...new Set(candidates.filter((c) => c.cost > 0n).map((c) => c.unit!))]
  const missing = rates === undefined ? units : units.filter((u) => rates.rate(u) === undefined)
  if (rates === undefined || missing.length > 0) {
    throw new CurrencyMismatchError(
      units,
      missing,
      candidates.filter((c) => c.cost > 0n).map((c) => `${c.provider.id}: ${c.cost} ${c.unit}`),
    )
  }
  return candidates.map((c) => (c.unit === undefined || c.cost === 0n ? ONE : rates.rate(c.unit)!))
}

const ONE: Rate = { num: 1n, den: 1n }

/** Compares two costs exactly (cross-multiplied): negative when a is cheaper. */
export function compareCost(a: bigint, ra: Rate | undefined, b: bigint, rb: Rate | undefined): number {
  if (ra === undefined || rb === undefined) return a < b ? -1 : a > b ? 1 : 0
  const left = a * ra.num * rb.den
  const right = b * rb.num * ra.den
  return left < right ? -1 : left > right ? 1 : 0
}

/** Formats a latency for reasons. */
export function ms(v: number | undefined): string {
  return v === undefined ? 'unknown' : `${Math.round(v * 10) / 10} ms`
}
