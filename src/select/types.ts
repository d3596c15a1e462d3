import type { ProviderStatsView } from '../health/ProviderStats.js'
import type { Cost, Descriptor, FunctionRecord, Provider } from '../record/schema.js'
import type { ResolveOptions } from '../resolve/types.js'
import type { SecurityRule } from '../security/rules.js'
import type { SecurityContext, SecurityContextInit } from '../security/SecurityContext.js'
import type { RatesInit, RateTable } from './RateTable.js'

/** A provider that survived filtering, as strategies see it. */
export interface Candidate {
  readonly provider: Provider
  /** The provider's health key (`providerKey(provider)`). */
  readonly key: string
  readonly stats: ProviderStatsView
  /** Declared cost per call in base units; `0n` when the provider declares none (nothing is billed). */
  readonly cost: bigint
  /** Currency of `cost`; `undefined` when the provider declares no cost. */
  readonly unit: string | undefined
}

/** Everything a strategy may look at. Strategies are pure functions of this. */
export interface StrategyInput {
  /** `namespace/path`. */
  readonly name: string
  readonly version: string
  readonly descriptor: Descriptor
  /** At least one, in the record's order. */
  readonly candidates: readonly Candidate[]
  /** The call's context, else the mesh's. */
  readonly context: SecurityContext
  /** Now, from the injected clock (epoch ms). */
  readonly now: number
  /** Injected uniform source in [0, 1). */
  readonly random: () => number
  /** Exchange rates, when configured. */
  readonly rates: RateTable | undefined
}

/** What a strategy returns: one of `input.candidates`, and why (a string, or a function building it on demand). */
export interface StrategyChoice {
  readonly candidate: Candidate
  readonly reason: string | (() => string)
}

/** A selection strategy: a pure function of its input. Factories give it a `strategyName`. */
export interface Strategy {
  (input: StrategyInput): StrategyChoice
  readonly strategyName?: string
}

/** The built-in strategies by name. */
export const STRATEGY_NAMES = [
  'lowest-cost',
  'fastest',
  'highest-availability',
  'load-balance',
  'weighted',
] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

/** A strategy by name, or a strategy function (built-in factory or custom). */
export type StrategySpec = StrategyName | Strategy

/** Every rule that can remove a candidate from one `select`. */
export type RemovalRule = SecurityRule | 'health.circuitOpen' | 'budget.maxCost'

/** One rule that removed one candidate. */
export interface Removal {
  readonly rule: RemovalRule
  /** The mesh's default context, the call's context, live health, or the call's budget. */
  readonly scope: 'mesh' | 'call' | 'record' | 'health' | 'budget'
  readonly message: string
}

/** A candidate that did not reach the strategy, with every rule that removed it. */
export interface RemovedCandidate {
  readonly provider: Provider
  readonly violations: readonly Removal[]
}

/** An ejection that the cap (`maxEjectionShare`) limited, as reported in a select result. */
export interface EjectionDecision {
  /** Providers with an open circuit that stayed out. */
  readonly ejected: readonly string[]
  /** Providers with an open circuit kept in because ejecting them would pass the cap. */
  readonly kept: readonly string[]
  /** Most providers that could be ejected: floor(allowed x maxEjectionShare). */
  readonly limit: number
  readonly allowed: number
}

/** What `mesh.select` returns. */
export interface SelectResult {
  /** The chosen provider. */
  readonly provider: Provider
  /** Its health key: pass it (or the provider) to `mesh.health.begin`. */
  readonly providerKey: string
  /** `namespace/path`. */
  readonly name: string
  readonly version: string
  readonly record: FunctionRecord
  readonly descriptor: Descriptor
  /** The candidates the strategy chose from (after security, health and budget). */
  readonly candidates: readonly Candidate[]
  /** The candidates that were removed, each with the rules that removed it. */
  readonly removed: readonly RemovedCandidate[]
  /** The strategy's name (`custom` for an unnamed function). */
  readonly strategy: string
  /** Why this provider: the strategy's reason, plus any capped ejection. */
  readonly reason: string
  /** Set when open circuits were kept in because of the ejection cap. */
  readonly ejection?: EjectionDecision
  /**
   * Every candidate's provider in the strategy's order of preference: the chosen one first, then
   * the strategy's choice among the rest, and so on. The order a governed call fails over in.
   */
  ranked?(): readonly Provider[]
}

/** Per-call options of `mesh.select` (and of the resolve it runs first). */
export interface SelectOptions extends ResolveOptions {
  /** Overrides the mesh's strategy for this call. */
  strategy?: StrategySpec
  /** Providers costing more than this per call are removed (rule `budget.maxCost`). */
  maxCost?: Cost
  /** Overrides the mesh's random source for this call. */
  random?: () => number
}

/** The selection part of `createMesh` options. */
export interface SelectionInit {
  /** @default 'load-balance' */
  strategy?: StrategySpec
  /**
   * The mesh's context. A context passed to `select` narrows it: a candidate must pass both.
   * @default { level: 'full' } (only the record's own requirements apply)
   */
  securityContext?: SecurityContext | SecurityContextInit
  /** Exchange rates relating currencies, for cost comparisons across currencies. */
  rates?: RateTable | RatesInit
  /** @default Math.random */
  random?: () => number
}
