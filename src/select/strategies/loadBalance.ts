import { SelectOptionsInvalidError } from '../../errors/select.js'
import { builtIn, draw, inFlight, ms, peakLatency, samples } from '../_read.js'
import type { Candidate, Strategy } from '../types.js'

/** Calls at once a provider with no completed call gets from load-balance. @default 1 */
export const DEFAULT_NEW_PROVIDER_PROBES = 1

export interface LoadBalanceOptions {
  /** Calls at once to a provider with no completed call yet: it is probed, never flooded. @default 1 */
  newProviderProbes?: number
}

/**
 * Power of two choices over peak-EWMA load, as Finagle and Linkerd balance: draw two distinct
 * candidates at random and take the one with the lower `peakLatencyMs x (inFlight + 1)`. The peak
 * EWMA (time constant `health.decayMs`, 10 s by default) jumps to a slow sample at once and decays
 * back, toward 0 while a provider is idle, so a slow provider sheds load within one sample and is
 * retried after it has rested. Failures enter as `failurePenaltyMs` samples, so a provider that fails
 * fast looks slow, not attractive. A provider with no completed call costs 0 while fewer than
 * `newProviderProbes` calls are in flight to it, and is skipped otherwise.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ registries, trust, strategy: loadBalance(), random: seededRandom(7) })
 * ```
 */
export function loadBalance(options: LoadBalanceOptions = {}): Strategy {
  const probes = options.newProviderProbes ?? DEFAULT_NEW_PROVIDER_PROBES
  if (!Number.isInteger(probes) || probes < 1)
    throw new SelectOptionsInvalidError('newProviderProbes', 'must be an integer >= 1', probes)
  const load = (c: Candidate, now: number): number => {
    const pending = inFlight(c)
    if (samples(c) === 0) return pending < probes ? 0 : Number.POSITIVE_INFINITY
    return (peakLatency(c, now) ?? 0) * (pending + 1)
  }
  return builtIn('load-balance', ({ candidates, now, random }) => {
    const n = candidates.length
    if (n === 1) {
      const only = candidates[0]!
      return { candidate: only, reason: `load-balance: ${only.provider.id} is the only candidate` }
    }
    const i = draw(random, n)
    let j = draw(random, n - 1)
    if (j >= i) j++
    const a = candidates[i]!
    const b = candidates[j]!
    const la = load(a, now)
    const lb = load(b, now)
    const [win, lose, lw, ll] = lb < la ? [b, a, lb, la] : [a, b, la, lb]
    return {
      candidate: win,
      reason: () =>
        `load-balance: power of two choices drew ${win.provider.id} (load ${describe(win, lw, now)}) and ${lose.provider.id} (load ${describe(lose, ll, now)}) of ${n}`,
    }
  })
}

function describe(c: Candidate, load: number, now: number): string {
  if (c.stats.samples === 0) return load === 0 ? 'new, probing' : 'new, probe in flight'
  return `${Math.round(load * 10) / 10} = peak-EWMA ${ms(c.stats.peakLatencyMs(now))} x ${c.stats.inFlight + 1}`
}
