import { builtIn, draw, ms, observedLatency } from '../_read.js'
import type { Candidate, Strategy } from '../types.js'

/**
 * Chooses the candidate with the lowest observed latency (the health tracker's EWMA, failures counted
 * as `failurePenaltyMs`), falling back to the advertised `avgResponseTimeMs` for providers with no
 * observation yet; a provider with neither ranks last. Ties go to the random source.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ registries, trust, strategy: 'fastest' })
 * ```
 */
export function fastest(): Strategy {
  return builtIn('fastest', ({ candidates, now, random }) => {
    let best: Candidate = candidates[0]!
    let bestObserved = observedLatency(best, now)
    let bestValue = bestObserved ?? best.provider.avgResponseTimeMs ?? Number.POSITIVE_INFINITY
    let ties = 1
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i]!
      const observed = observedLatency(c, now)
      const value = observed ?? c.provider.avgResponseTimeMs ?? Number.POSITIVE_INFINITY
      if (value > bestValue) continue
      if (value === bestValue) {
        ties++
        if (draw(random, ties) !== 0) continue
      } else ties = 1
      best = c
      bestObserved = observed
      bestValue = value
    }
    const chosen = best
    const observed = bestObserved !== undefined
    return {
      candidate: chosen,
      reason: () =>
        `fastest: ${chosen.provider.id} at ${ms(Number.isFinite(bestValue) ? bestValue : undefined)} (${observed ? 'observed' : 'advertised'}), fastest of ${candidates.length}${ties > 1 ? ` (random among ${ties} equal)` : ''}`,
    }
  })
}
