import type { Clock } from '../clock.js'
import { MeshError } from '../errors/base.js'
import { NoHealthyProviderError } from '../errors/health.js'
import { NoAllowedProviderError } from '../errors/security.js'
import { NoProvidersError, SelectOptionsInvalidError, StrategyInvalidError } from '../errors/select.js'
import { type HealthTracker, providerKey } from '../health/HealthTracker.js'
import type { ProviderStats } from '../health/ProviderStats.js'
import { logger } from '../logger.js'
import type { ResolveResult } from '../resolve/types.js'
import { filterProviders, type ScopedContext } from '../security/filterProviders.js'
import { RULE_FIXES } from '../security/rules.js'
import { SecurityContext, type SecurityContextInit } from '../security/SecurityContext.js'
import { budgetPass } from './_budget.js'
import { BUILT_IN } from './_read.js'
import { Selection } from './_Selection.js'
import { type RateTable, rateTable } from './RateTable.js'
import { resolveStrategy, strategyName } from './strategies/resolveStrategy.js'
import type {
  Candidate,
  EjectionDecision,
  RemovedCandidate,
  SelectionInit,
  SelectOptions,
  SelectResult,
  Strategy,
  StrategyChoice,
  StrategyInput,
} from './types.js'

const log = logger('select')

/** The mesh's context when none is configured: only the record's own requirements apply. */
export const DEFAULT_SECURITY_CONTEXT: SecurityContext = SecurityContext.from({ level: 'full' })

/** The filtered candidates of one (resolution, context) pair. */
interface Memo {
  readonly allowed: readonly Candidate[]
  /** The live stats of `allowed`, same order. */
  readonly live: readonly ProviderStats[]
  readonly removed: readonly RemovedCandidate[]
  readonly context: SecurityContext
  readonly generation: number
  readonly error: MeshError | undefined
  /** The last health pass over `allowed`, reused while the health epoch holds and no open time ends. */
  readonly healthCache: { pass: HealthPass | undefined; epoch: number; validUntil: number }
}

interface HealthPass {
  readonly candidates: readonly Candidate[]
  readonly removed: readonly RemovedCandidate[]
  readonly ejection: EjectionDecision | undefined
}

interface Slot {
  none: Memo | undefined
  readonly byContext: WeakMap<SecurityContext, Memo>
}

export interface SelectorInit extends SelectionInit {
  health: HealthTracker
  clock: Clock
}

/**
 * Filters a resolution's providers and picks one. The security filter is memoized per (resolution,
 * context) object pair, so a warm `select` costs two WeakMap lookups, one pass over the candidates'
 * circuits only when some circuit is not closed, and the strategy. Health is read live on every call:
 * a circuit change takes effect on the next select of every name that lists the provider, so no
 * cached selection can outlive a health change.
 */
export class Selector {
  readonly health: HealthTracker
  readonly context: SecurityContext
  readonly strategy: Strategy
  readonly rates: RateTable | undefined
  private readonly clock: Clock
  private readonly random: () => number
  private readonly memos = new WeakMap<ResolveResult, Slot>()

  constructor(init: SelectorInit) {
    this.health = init.health
    this.clock = init.clock
    this.context =
      init.securityContext === undefined
        ? DEFAULT_SECURITY_CONTEXT
        : SecurityContext.from(init.securityContext)
    this.strategy = resolveStrategy(init.strategy ?? 'load-balance')
    this.rates = init.rates === undefined ? undefined : rateTable(init.rates)
    const random = init.random ?? Math.random
    if (typeof random !== 'function')
      throw new SelectOptionsInvalidError('random', 'must be a function returning a number in [0, 1)')
    this.random = random
  }

  /**
   * Picks a provider of a resolved version for a caller.
   *
   * @example
   * ```ts
   * const selection = selector.select(await mesh.resolve('acme.com/image/sharpen'), ctx)
   * ```
   */
  select(
    resolved: ResolveResult,
    context?: SecurityContext | SecurityContextInit,
    options: SelectOptions = {},
  ): SelectResult {
    const call =
      context === undefined
        ? undefined
        : context instanceof SecurityContext
          ? context
          : SecurityContext.from(context)
    const memo = this.memo(resolved, call)
    if (memo.error !== undefined) throw memo.error
    let candidates = memo.allowed
    let removed = memo.removed
    let ejection: EjectionDecision | undefined
    const now = this.clock.now()
    if (this.health.unhealthy > 0) {
      const cache = memo.healthCache
      if (cache.epoch !== this.health.epoch || now >= cache.validUntil) {
        cache.pass = this.healthPass(resolved, memo, now)
        // admits() may itself half-open a circuit (bumping the epoch): read the epoch after the pass.
        cache.epoch = this.health.epoch
        cache.validUntil = nextReopen(memo.live, now)
      }
      const pass = cache.pass
      if (pass !== undefined) {
        candidates = pass.candidates
        removed = pass.removed
        ejection = pass.ejection
      }
    }
    if (options.maxCost !== undefined) {
      const pass = budgetPass(resolved.name, candidates, options.maxCost, this.rates)
      candidates = pass.candidates
      if (pass.removed.length > 0) removed = [...removed, ...pass.removed]
    }
    const strategy = options.strategy === undefined ? this.strategy : resolveStrategy(options.strategy)
    const random = options.random ?? this.random
    if (typeof random !== 'function')
      throw new SelectOptionsInvalidError('random', 'must be a function returning a number in [0, 1)')
    const input: StrategyInput = {
      name: resolved.name,
      version: resolved.version,
      descriptor: resolved.descriptor,
      candidates,
      context: memo.context,
      now,
      random,
      rates: this.rates,
    }
    const run = (strategy as { [BUILT_IN]?: true })[BUILT_IN]
      ? strategy
      : (i: StrategyInput) => runCustom(strategy, i)
    const choice = run(input)
    // The failover order, on first use: the same strategy over the candidates not yet chosen.
    const rerank = (rest: readonly Candidate[]) => {
      const next = run({ ...input, candidates: rest }).candidate
      return rest.includes(next) ? next : rest[0]!
    }
    return new Selection(resolved, choice, candidates, removed, strategyName(strategy), ejection, rerank)
  }

  private memo(resolved: ResolveResult, call: SecurityContext | undefined): Memo {
    let slot = this.memos.get(resolved)
    if (slot === undefined) {
      slot = { none: undefined, byContext: new WeakMap() }
      this.memos.set(resolved, slot)
    }
    let memo = call === undefined ? slot.none : slot.byContext.get(call)
    if (memo === undefined || memo.generation !== this.health.generation) {
      memo = this.build(resolved, call)
      if (call === undefined) slot.none = memo
      else slot.byContext.set(call, memo)
    }
    return memo
  }

  private build(resolved: ResolveResult, call: SecurityContext | undefined): Memo {
    const contexts: ScopedContext[] = [{ context: this.context, scope: 'mesh' }]
    if (call !== undefined) contexts.push({ context: call, scope: 'call' })
    const generation = this.health.generation
    const context = call ?? this.context
    if (resolved.providers.length === 0) {
      const error = new NoProvidersError(resolved.name, resolved.version)
      return {
        allowed: [],
        live: [],
        removed: [],
        context,
        generation,
        error,
        healthCache: { pass: undefined, epoch: -1, validUntil: 0 },
      }
    }
    const { allowed, removed } = filterProviders(contexts, resolved)
    const live = allowed.map((p) => this.health.get(providerKey(p)))
    const candidates = allowed.map<Candidate>((provider, i) =>
      Object.freeze({
        provider,
        key: live[i]!.key,
        stats: live[i]!,
        cost: provider.cost === undefined ? 0n : BigInt(provider.cost.baseUnits),
        unit: provider.cost?.unit,
      }),
    )
    let error: MeshError | undefined
    if (candidates.length === 0) {
      const rules = new Set(removed.flatMap((r) => r.violations.map((v) => v.rule)))
      error = new NoAllowedProviderError(
        resolved.name,
        resolved.version,
        removed.map((r) => ({ provider: r.provider.id, violations: r.violations })),
        [...rules].map((rule) => RULE_FIXES[rule]),
      )
      log('%s@%s: no provider allowed (%s)', resolved.name, resolved.version, [...rules].join(', '))
    }
    return Object.freeze({
      allowed: Object.freeze(candidates),
      live: Object.freeze(live),
      removed: Object.freeze(removed),
      context,
      generation,
      error,
      healthCache: { pass: undefined, epoch: -1, validUntil: 0 },
    })
  }

  /** Removes providers whose circuit will not admit a call, within the ejection cap. */
  private healthPass(resolved: ResolveResult, memo: Memo, now: number): HealthPass | undefined {
    let out: number[] | undefined
    for (let i = 0; i < memo.live.length; i++) {
      if (memo.live[i]!.admits(now)) continue
      out ??= []
      out.push(i)
    }
    if (out === undefined) return undefined
    const n = memo.allowed.length
    const share = this.health.options.maxEjectionShare
    const limit = Math.floor(n * share)
    let ejection: EjectionDecision | undefined
    let ejected = out
    if (out.length > limit) {
      // Keep the providers closest to probing again: the ones whose open time ends first.
      const order = [...out].sort((a, b) => memo.live[a]!.reopenAt - memo.live[b]!.reopenAt || a - b)
      const kept = order.slice(0, out.length - limit)
      ejected = order.slice(out.length - limit).sort((a, b) => a - b)
      if (kept.length > 0) {
        ejection = {
          ejected: ejected.map((i) => memo.allowed[i]!.provider.id),
          kept: kept.map((i) => memo.allowed[i]!.provider.id),
          limit,
          allowed: n,
        }
        log(
          '%s: ejection capped: %d of %d providers have open circuits, maxEjectionShare %d allows %d; kept %s',
          resolved.name,
          out.length,
          n,
          share,
          limit,
          ejection.kept.join(', '),
        )
      }
    }
    if (ejected.length === n) {
      throw new NoHealthyProviderError(
        resolved.name,
        memo.allowed.map((c) => c.provider.id),
      )
    }
    const skip = new Set(ejected)
    const candidates: Candidate[] = []
    const removed: RemovedCandidate[] = []
    for (let i = 0; i < n; i++) {
      const c = memo.allowed[i]!
      if (!skip.has(i)) {
        candidates.push(c)
        continue
      }
      const s = memo.live[i]!
      removed.push({
        provider: c.provider,
        violations: [
          {
            rule: 'health.circuitOpen',
            scope: 'health',
            message:
              s.circuitState(now) === 'open'
                ? `circuit open until ${new Date(s.reopenAt).toISOString()}`
                : `circuit half-open with ${s.probes} probes in flight`,
          },
        ],
      })
    }
    return Object.freeze({
      candidates: Object.freeze(candidates),
      removed: Object.freeze([...memo.removed, ...removed]),
      ejection,
    })
  }
}

/** The earliest time an open circuit among `live` may half-open (admission changes then). */
function nextReopen(live: readonly ProviderStats[], now: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const s of live) if (s.circuitState(now) === 'open' && s.reopenAt < next) next = s.reopenAt
  return next
}

function runCustom(strategy: Strategy, input: StrategyInput): StrategyChoice {
  const name = strategyName(strategy)
  let choice: StrategyChoice
  try {
    choice = strategy(input)
  } catch (err) {
    if (err instanceof MeshError) throw err
    throw new StrategyInvalidError(name, `threw ${(err as Error)?.message ?? String(err)}`, err)
  }
  if (choice === null || typeof choice !== 'object' || !input.candidates.includes(choice.candidate))
    throw new StrategyInvalidError(name, 'returned something that is not one of input.candidates')
  if (typeof choice.reason !== 'string' && typeof choice.reason !== 'function')
    throw new StrategyInvalidError(name, 'returned no reason (a string or a function returning one)')
  return choice
}
