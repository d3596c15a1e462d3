import { HealthOptionsInvalidError } from '../errors/health.js'

/** Tuning of provider health; every field optional, see {@link DEFAULT_HEALTH_OPTIONS}. */
export interface HealthOptions {
  /** Time constant of the latency EWMAs (peak-EWMA and plain), in ms. @default 10000 */
  decayMs?: number
  /** Lowest weight a new latency sample gets, so bursts at one instant still count. @default 0.05 */
  minSampleWeight?: number
  /** Sliding window of the success ratio, in ms. @default 60000 */
  windowMs?: number
  /** Buckets the window is kept in (its time resolution is windowMs / windowBuckets). @default 12 */
  windowBuckets?: number
  /** A failure counts as a call at least this slow, so a provider that fails fast attracts no traffic. @default 5000 */
  failurePenaltyMs?: number
  /** Consecutive failures that open the circuit (cockatiel ConsecutiveBreaker). @default 5 */
  consecutiveFailures?: number
  /** Share of failures over the last `ratioWindowCalls` calls that opens the circuit (cockatiel CountBreaker). @default 0.5 */
  failureRatio?: number
  /** @default 20 */
  ratioWindowCalls?: number
  /** Calls needed in the window before the ratio may open the circuit. @default 10 */
  ratioMinimumCalls?: number
  /** How long a circuit stays open before half-opening, first time (then doubling). @default 5000 */
  halfOpenAfterMs?: number
  /** Cap of the doubling open time. @default 60000 */
  maxHalfOpenAfterMs?: number
  /** Probes admitted at once while half-open; that many successes close the circuit. @default 2 */
  halfOpenProbes?: number
  /** Largest share of one function's allowed providers that may be ejected at once. @default 0.5 */
  maxEjectionShare?: number
  /** Calls at once to a provider with no completed call yet (load-balance probes, never floods). @default 1 */
  newProviderProbes?: number
  /** Providers tracked before idle ones are forgotten. @default 10000 */
  maxProviders?: number
}

/** The defaults of every {@link HealthOptions} field. */
export const DEFAULT_HEALTH_OPTIONS: Readonly<Required<HealthOptions>> = Object.freeze({
  decayMs: 10_000,
  minSampleWeight: 0.05,
  windowMs: 60_000,
  windowBuckets: 12,
  failurePenaltyMs: 5_000,
  consecutiveFailures: 5,
  failureRatio: 0.5,
  ratioWindowCalls: 20,
  ratioMinimumCalls: 10,
  halfOpenAfterMs: 5_000,
  maxHalfOpenAfterMs: 60_000,
  halfOpenProbes: 2,
  maxEjectionShare: 0.5,
  newProviderProbes: 1,
  maxProviders: 10_000,
})

type Rule = [check: (v: number) => boolean, text: string]
const posInt: Rule = [(v) => Number.isInteger(v) && v >= 1, 'an integer >= 1']
const posMs: Rule = [(v) => Number.isFinite(v) && v > 0 && v <= 86_400_000, 'milliseconds in (0, 86400000]']
const RULES: Record<keyof HealthOptions, Rule> = {
  decayMs: posMs,
  minSampleWeight: [(v) => Number.isFinite(v) && v >= 0 && v <= 1, 'a number in [0, 1]'],
  windowMs: posMs,
  windowBuckets: [(v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer in [1, 1000]'],
  failurePenaltyMs: [(v) => Number.isFinite(v) && v >= 0 && v <= 86_400_000, 'milliseconds in [0, 86400000]'],
  consecutiveFailures: posInt,
  failureRatio: [(v) => Number.isFinite(v) && v > 0 && v < 1, 'a ratio strictly between 0 and 1'],
  ratioWindowCalls: [(v) => Number.isInteger(v) && v >= 1 && v <= 10_000, 'an integer in [1, 10000]'],
  ratioMinimumCalls: posInt,
  halfOpenAfterMs: posMs,
  maxHalfOpenAfterMs: posMs,
  halfOpenProbes: [(v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer in [1, 1000]'],
  maxEjectionShare: [(v) => Number.isFinite(v) && v >= 0 && v <= 1, 'a share in [0, 1]'],
  newProviderProbes: posInt,
  maxProviders: [(v) => Number.isInteger(v) && v >= 16, 'an integer >= 16'],
}

/** Checks options and fills in defaults; a bad field is a {@link HealthOptionsInvalidError}. */
export function checkHealthOptions(options: HealthOptions | undefined): Readonly<Required<HealthOptions>> {
  if (options === undefined) return DEFAULT_HEALTH_OPTIONS
  if (options === null || typeof options !== 'object')
    throw new HealthOptionsInvalidError('(root)', 'must be an object')
  const out: Record<string, number> = { ...DEFAULT_HEALTH_OPTIONS }
  for (const [field, value] of Object.entries(options)) {
    if (value === undefined) continue
    const rule = RULES[field as keyof HealthOptions]
    if (rule === undefined) throw new HealthOptionsInvalidError(field, 'unknown option')
    if (typeof value !== 'number' || !rule[0](value)) {
      throw new HealthOptionsInvalidError(field, `must be ${rule[1]}, got ${String(value)}`)
    }
    out[field] = value
  }
  const checked = out as Required<HealthOptions>
  if (checked.ratioMinimumCalls > checked.ratioWindowCalls)
    throw new HealthOptionsInvalidError('ratioMinimumCalls', 'must not exceed ratioWindowCalls')
  if (checked.maxHalfOpenAfterMs < checked.halfOpenAfterMs)
    throw new HealthOptionsInvalidError('maxHalfOpenAfterMs', 'must not be below halfOpenAfterMs')
  return Object.freeze(checked)
}
