import { builtIn, commonRates, compareCost, draw, expectedLatency } from '../_read.js'
import type { Rate } from '../RateTable.js'
import type { Candidate, Strategy } from '../types.js'

/**
 * Chooses the cheapest candidate by declared cost in base units (bigint, exact). Providers priced in
 * different currencies are compared only through the mesh's rate table, else it is a
 * `CurrencyMismatchError`. A provider that declares no cost is billed nothing and counts as 0. Ties go
 * to the lower expected latency (observed, else advertised), then to the random source.
 *
 * @example
 * ```ts
 * const { provider, reason } = await mesh.select('acme.com/image/sharpen', ctx, { strategy: lowestCost() })
 * ```
 */
export function lowestCost(): Strategy {
  return builtIn('lowest-cost', ({ candidates, now, random, rates }) => {
    const table = commonRates(candidates, rates)
    let best = candidates[0]!
    let bestRate: Rate | undefined = table?.[0]
    let bestLatency = expectedLatency(best, now) ?? Number.POSITIVE_INFINITY
    let ties = 1
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i]!
      const rate = table?.[i]
      const order = compareCost(c.cost, rate, best.cost, bestRate)
      if (order > 0) continue
      const latency = expectedLatency(c, now) ?? Number.POSITIVE_INFINITY
      if (order === 0) {
        if (latency > bestLatency) continue
        if (latency === bestLatency) {
          ties++
          if (draw(random, ties) !== 0) continue
        } else ties = 1
      } else ties = 1
      best = c
      bestRate = rate
      bestLatency = latency
    }
    const chosen: Candidate = best
    return {
      candidate: chosen,
      reason: () =>
        `lowest-cost: ${chosen.provider.id} at ${chosen.cost} ${chosen.unit ?? '(no cost declared)'} per call, cheapest of ${candidates.length}${ties > 1 ? ` (random among ${ties} equal)` : ''}${table === undefined ? '' : ` (compared through rates against ${rates!.reference})`}`,
    }
  })
}
