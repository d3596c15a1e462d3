import { SelectOptionsInvalidError } from '../../errors/select.js'
import { builtIn, commonRates, draw, expectedLatency, ms } from '../_read.js'
import type { Strategy } from '../types.js'

export interface WeightedOptions {
  /** Weight of cost in the score. @default 0.5 */
  cost?: number
  /** Weight of latency in the score. @default 0.5 */
  latency?: number
}

const SCALE = 1_000_000n

/**
 * Scores each candidate `cost x costNorm + latency x latencyNorm` and takes the lowest. Each term is
 * normalized to [0, 1] by the largest value among the candidates: `costNorm = cost / maxCost` is
 * computed on bigints scaled by 10^6 (converted to the rate table's reference currency first, exactly)
 * and only the final quotient becomes a float, so precision is 10^-6 of the most expensive candidate,
 * whatever the magnitudes; `latencyNorm = latency / maxLatency` over expected latencies (observed,
 * else advertised; unknown counts as the largest). Weights need not sum to 1. Combine with the
 * `maxCost` select option for a per-call budget cap. Ties go to the random source.
 *
 * @example
 * ```ts
 * await mesh.select(name, ctx, { strategy: weighted({ cost: 0.8, latency: 0.2 }), maxCost: { unit: 'USDC', baseUnits: '8000' } })
 * ```
 */
export function weighted(options: WeightedOptions = {}): Strategy {
  const wc = options.cost ?? 0.5
  const wl = options.latency ?? 0.5
  for (const [field, w] of [
    ['cost', wc],
    ['latency', wl],
  ] as const) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new SelectOptionsInvalidError(`weighted.${field}`, 'must be a finite number >= 0', w)
  }
  if (wc + wl === 0) throw new SelectOptionsInvalidError('weighted', 'at least one weight must be above 0')
  return builtIn('weighted', ({ candidates, now, random, rates }) => {
    const n = candidates.length
    const table = commonRates(candidates, rates)
    const costs = new Array<bigint>(n)
    const latencies = new Array<number>(n)
    let maxCost = 0n
    let maxLatency = 0
    for (let i = 0; i < n; i++) {
      const c = candidates[i]!
      const rate = table?.[i]
      const v = rate === undefined ? c.cost * SCALE : (c.cost * rate.num * SCALE) / rate.den
      costs[i] = v
      if (v > maxCost) maxCost = v
      const l = expectedLatency(c, now) ?? Number.POSITIVE_INFINITY
      latencies[i] = l
      if (l > maxLatency && Number.isFinite(l)) maxLatency = l
    }
    let best = 0
    let bestScore = Number.POSITIVE_INFINITY
    let ties = 0
    const scores = new Array<number>(n)
    for (let i = 0; i < n; i++) {
      const costNorm = maxCost === 0n ? 0 : Number((costs[i]! * SCALE) / maxCost) / 1_000_000
      const l = latencies[i]!
      const latencyNorm =
        maxLatency === 0 ? (Number.isFinite(l) ? 0 : 1) : Number.isFinite(l) ? l / maxLatency : 1
      const score = wc * costNorm + wl * latencyNorm
      scores[i] = score
      if (score > bestScore) continue
      if (score === bestScore) {
        ties++
        if (draw(random, ties) !== 0) continue
      } else ties = 1
      best = i
      bestScore = score
    }
    const chosen = candidates[best]!
    return {
      candidate: chosen,
      reason: () =>
        `weighted: ${chosen.provider.id} scored ${bestScore.toFixed(4)} (cost ${chosen.cost} ${chosen.unit ?? ''} x ${wc}, latency ${ms(Number.isFinite(latencies[best]!) ? latencies[best] : undefined)} x ${wl}; lowest of ${n}: ${candidates.map((c, i) => `${c.provider.id}=${scores[i]!.toFixed(4)}`).join(', ')})`,
    }
  })
}
