import { SelectOptionsInvalidError } from '../../errors/select.js'
import { builtIn, draw, successRatio } from '../_read.js'
import type { Candidate, Strategy } from '../types.js'

/** SLA tiers, best first, as `highestAvailability` ranks them by default. */
export const DEFAULT_SLA_TIERS = ['enterprise', 'premium', 'standard', 'basic', 'free'] as const

export interface HighestAvailabilityOptions {
  /** SLA tiers, best first; unknown tiers and providers without one rank after all of them. */
  tiers?: readonly string[]
}

/**
 * Chooses the candidate with the highest observed success ratio over the health window; providers
 * with no outcome in the window rank below every observed one (availability prefers the proven). Ties,
 * and providers without observations, are ordered by SLA tier, then by the random source.
 *
 * @example
 * ```ts
 * await mesh.select(name, ctx, { strategy: highestAvailability({ tiers: ['gold', 'silver'] }) })
 * ```
 */
export function highestAvailability(options: HighestAvailabilityOptions = {}): Strategy {
  const tiers = options.tiers ?? DEFAULT_SLA_TIERS
  if (!Array.isArray(tiers) || tiers.some((t) => typeof t !== 'string'))
    throw new SelectOptionsInvalidError('tiers', 'must be an array of tier names, best first')
  const rank = new Map(tiers.map((t, i) => [t, tiers.length - i]))
  const tierRank = (c: Candidate) =>
    c.provider.slaTier === undefined ? 0 : (rank.get(c.provider.slaTier) ?? 0)
  return builtIn('highest-availability', ({ candidates, now, random }) => {
    let best = candidates[0]!
    let bestRatio = successRatio(best, now) ?? -1
    let bestTier = tierRank(best)
    let ties = 1
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i]!
      const ratio = successRatio(c, now) ?? -1
      if (ratio < bestRatio) continue
      const tier = tierRank(c)
      if (ratio === bestRatio) {
        if (tier < bestTier) continue
        if (tier === bestTier) {
          ties++
          if (draw(random, ties) !== 0) continue
        } else ties = 1
      } else ties = 1
      best = c
      bestRatio = ratio
      bestTier = tier
    }
    const chosen = best
    return {
      candidate: chosen,
      reason: () =>
        `highest-availability: ${chosen.provider.id} with ${bestRatio < 0 ? 'no observed outcomes' : `success ratio ${bestRatio.toFixed(4)}`}, SLA tier ${chosen.provider.slaTier ?? 'none'}, best of ${candidates.length}${ties > 1 ? ` (random among ${ties} equal)` : ''}`,
    }
  })
}
