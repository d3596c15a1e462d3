import '../_polyfill.js'

// `function-mesh/select`: selection on its own: the selector, strategies, rates, health and security.
export {
  type CallOutcome,
  FAILURE_KINDS,
  type FailureKind,
  type HealthChange,
  type HealthSnapshot,
  HealthTracker,
  type HealthTrackerInit,
  providerKey,
} from '../health/HealthTracker.js'
export { DEFAULT_HEALTH_OPTIONS, type HealthOptions } from '../health/healthOptions.js'
export type { CircuitStateName, ProviderStats, ProviderStatsView } from '../health/ProviderStats.js'
export {
  type FilterResult,
  type FilterSubject,
  filterProviders,
  type RemovedProvider,
  type ScopedContext,
  type Violation,
} from '../security/filterProviders.js'
export { RULE_FIXES, SECURITY_RULES, type SecurityRule } from '../security/rules.js'
export { SecurityContext, type SecurityContextInit, securityContext } from '../security/SecurityContext.js'
export { type Rate, type RatesInit, RateTable, rateTable } from './RateTable.js'
export { DEFAULT_SECURITY_CONTEXT, Selector, type SelectorInit } from './Selector.js'
export { seededRandom } from './seededRandom.js'
export { type StaticStatsInit, staticStats } from './staticStats.js'
export { fastest } from './strategies/fastest.js'
export {
  DEFAULT_SLA_TIERS,
  type HighestAvailabilityOptions,
  highestAvailability,
} from './strategies/highestAvailability.js'
export {
  DEFAULT_NEW_PROVIDER_PROBES,
  type LoadBalanceOptions,
  loadBalance,
} from './strategies/loadBalance.js'
export { lowestCost } from './strategies/lowestCost.js'
export { resolveStrategy } from './strategies/resolveStrategy.js'
export { type WeightedOptions, weighted } from './strategies/weighted.js'
export {
  type Candidate,
  type EjectionDecision,
  type Removal,
  type RemovalRule,
  type RemovedCandidate,
  type SelectionInit,
  type SelectOptions,
  type SelectResult,
  STRATEGY_NAMES,
  type Strategy,
  type StrategyChoice,
  type StrategyInput,
  type StrategyName,
  type StrategySpec,
} from './types.js'
