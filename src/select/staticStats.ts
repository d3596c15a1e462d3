import type { ProviderStatsView } from '../health/ProviderStats.js'

/** Fixed stats for a crafted candidate: what tests, simulations and custom strategies pass. */
export interface StaticStatsInit {
  latencyMs?: number
  peakLatencyMs?: number
  successRatio?: number
  inFlight?: number
  samples?: number
}

/**
 * Stats that do not change with time, shaped like the live ones. `samples` defaults to 1 when any
 * latency or ratio is given, else 0 (a new provider).
 *
 * @example
 * ```ts
 * const candidate = { provider, key: providerKey(provider), stats: staticStats({ latencyMs: 20 }), cost: 10n, unit: 'USDC' }
 * ```
 */
export function staticStats(init: StaticStatsInit = {}): ProviderStatsView {
  const observed =
    init.latencyMs !== undefined || init.peakLatencyMs !== undefined || init.successRatio !== undefined
  return {
    inFlight: init.inFlight ?? 0,
    samples: init.samples ?? (observed ? 1 : 0),
    latencyMs: () => init.latencyMs,
    peakLatencyMs: () => init.peakLatencyMs ?? init.latencyMs,
    successRatio: () => init.successRatio,
  }
}
