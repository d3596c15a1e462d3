import { CircuitState } from 'cockatiel'
import { type Clock, systemClock } from '../clock.js'
import { HealthSampleInvalidError } from '../errors/health.js'
import { logger } from '../logger.js'
import type { Provider } from '../record/schema.js'
import { checkHealthOptions, type HealthOptions } from './healthOptions.js'
import { type CircuitStateName, ProviderStats, type StatsOwner } from './ProviderStats.js'

const log = logger('health')

/** Why a call failed, as the invocation layer reports it. All of them count against the provider. */
export const FAILURE_KINDS = ['error', 'timeout', 'unavailable', 'bad-response'] as const
export type FailureKind = (typeof FAILURE_KINDS)[number]

/**
 * One call in flight, from `HealthTracker.begin`. Settle it exactly once: `success`, `failure`, or
 * `cancel` for a call that says nothing about the provider (aborted by the caller, input refused
 * before sending). Later calls are ignored and return false.
 */
export interface CallOutcome {
  /** Latency defaults to the injected clock's time since `begin`. */
  success(latencyMs?: number): boolean
  failure(latencyMs?: number, kind?: FailureKind): boolean
  cancel(): boolean
}

/** A circuit changed state. */
export interface HealthChange {
  readonly key: string
  readonly from: CircuitStateName
  readonly to: CircuitStateName
  readonly at: number
  readonly reason: string
}

export interface HealthTrackerInit extends HealthOptions {
  clock?: Clock
}

/**
 * The stats key of a provider: its id and endpoint (the same id at two endpoints is two providers).
 *
 * @example
 * ```ts
 * providerKey({ id: 'p1', endpoint: 'https://p1.example/fn' }) // 'p1 https://p1.example/fn'
 * ```
 */
export function providerKey(provider: Pick<Provider, 'id' | 'endpoint'>): string {
  return `${provider.id} ${provider.endpoint}`
}

/**
 * Per-provider health shared by every strategy: peak-EWMA and EWMA latency, in-flight count, success
 * ratio over a sliding window, and a circuit breaker. The invocation layer reports each call:
 *
 * @example
 * ```ts
 * const { provider } = await mesh.select('acme.com/image/sharpen')
 * const call = mesh.health.begin(provider)
 * try {
 *   const output = await send(provider, input)
 *   call.success()                    // latency measured on the mesh clock since begin
 *   return output
 * } catch (err) {
 *   call.failure(undefined, 'error')  // or 'timeout' | 'unavailable' | 'bad-response'
 *   throw err
 * }
 * ```
 */
export class HealthTracker implements StatsOwner {
  readonly options: Readonly<Required<HealthOptions>>
  readonly clock: Clock
  /** Providers whose circuit is not closed; 0 lets selection skip the health pass entirely. */
  unhealthy = 0
  /** Bumped whenever tracked providers are forgotten, so holders of stats objects re-fetch them. */
  generation = 0
  /**
   * Bumped on every change of who may be selected: a circuit transition, a half-open probe slot taken
   * or freed, a provider forgotten. Selections cached against an older epoch are stale.
   */
  epoch = 0
  private readonly stats = new Map<string, ProviderStats>()
  private readonly listeners = new Set<(change: HealthChange) => void>()

  constructor(init: HealthTrackerInit = {}) {
    const { clock, ...options } = init
    this.options = checkHealthOptions(options)
    this.clock = clock ?? systemClock
  }

  /** The stats of a provider, created on first use. */
  get(key: string): ProviderStats {
    let stats = this.stats.get(key)
    if (stats === undefined) {
      if (this.stats.size >= this.options.maxProviders) this.sweep()
      stats = new ProviderStats(key, this, this.clock.now())
      this.stats.set(key, stats)
    }
    return stats
  }

  /** The stats of a provider if tracked, without creating them. */
  peek(key: string): ProviderStats | undefined {
    return this.stats.get(key)
  }

  get size(): number {
    return this.stats.size
  }

  /** Starts a call to a provider (a `Provider` or its {@link providerKey}); settle the result once. */
  begin(provider: string | Pick<Provider, 'id' | 'endpoint'>): CallOutcome {
    const key = typeof provider === 'string' ? provider : providerKey(provider)
    const stats = this.get(key)
    const now = this.clock.now()
    const probe = stats.begin(now)
    return new Outcome(this, stats, now, probe ? stats.epoch : -1)
  }

  /** Subscribes to circuit changes; returns the unsubscribe function. */
  onChange(listener: (change: HealthChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A snapshot of one provider's health, for status output. */
  snapshot(key: string): HealthSnapshot | undefined {
    const s = this.stats.get(key)
    if (s === undefined) return undefined
    const now = this.clock.now()
    return {
      key,
      circuit: s.circuitState(now),
      inFlight: s.inFlight,
      samples: s.samples,
      latencyMs: s.latencyMs(now),
      peakLatencyMs: s.peakLatencyMs(now),
      successRatio: s.successRatio(now),
      ...(s.circuit === CircuitState.Open ? { reopenAt: s.reopenAt } : {}),
    }
  }

  /** Forgets one provider, or all. */
  reset(key?: string): void {
    const gone =
      key === undefined ? [...this.stats.values()] : [this.stats.get(key)].filter((s) => s !== undefined)
    for (const s of gone) {
      if (s.circuit !== CircuitState.Closed) this.unhealthy--
      this.stats.delete(s.key)
    }
    this.generation++
    this.epoch++
  }

  /** @internal Called by ProviderStats when a half-open probe slot is taken or freed. */
  touched(): void {
    this.epoch++
  }

  /** @internal Called by ProviderStats on every circuit change. */
  transition(stats: ProviderStats, from: CircuitState, to: CircuitState, now: number, why: string): void {
    this.epoch++
    if (from === CircuitState.Closed) this.unhealthy++
    else if (to === CircuitState.Closed) this.unhealthy--
    const change: HealthChange = {
      key: stats.key,
      from: name(from),
      to: name(to),
      at: now,
      reason: why,
    }
    log('%s: circuit %s -> %s (%s)', stats.key, change.from, change.to, why)
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        log.error('health listener threw: %s', (err as Error).message)
      }
    }
  }

  /** Forgets the idlest tenth of the idle, healthy providers. */
  private sweep(): void {
    const idle = [...this.stats.values()]
      .filter((s) => s.inFlight === 0 && s.circuit === CircuitState.Closed)
      .sort((a, b) => a.lastUsed - b.lastUsed)
    const drop = idle.slice(0, Math.max(1, Math.floor(this.stats.size / 10)))
    for (const s of drop) this.stats.delete(s.key)
    this.generation++
    this.epoch++
    log('forgot %d idle providers', drop.length)
  }
}

/** What `HealthTracker.snapshot` returns. */
export interface HealthSnapshot {
  readonly key: string
  readonly circuit: CircuitStateName
  readonly inFlight: number
  readonly samples: number
  readonly latencyMs: number | undefined
  readonly peakLatencyMs: number | undefined
  readonly successRatio: number | undefined
  readonly reopenAt?: number
}

function name(state: CircuitState): CircuitStateName {
  return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open'
}

class Outcome implements CallOutcome {
  private settled = false
  constructor(
    private readonly tracker: HealthTracker,
    private readonly stats: ProviderStats,
    private readonly startedAt: number,
    private readonly probeEpoch: number,
  ) {}

  success(latencyMs?: number): boolean {
    return this.settle(true, latencyMs, 'error')
  }

  failure(latencyMs?: number, kind: FailureKind = 'error'): boolean {
    if (!(FAILURE_KINDS as readonly string[]).includes(kind))
      throw new HealthSampleInvalidError(this.stats.key, 'kind', kind)
    return this.settle(false, latencyMs, kind)
  }

  cancel(): boolean {
    if (this.settled) return false
    this.settled = true
    this.stats.release(this.tracker.clock.now(), this.probeEpoch)
    return true
  }

  private settle(ok: boolean, latencyMs: number | undefined, kind: FailureKind): boolean {
    if (this.settled) return false
    const now = this.tracker.clock.now()
    const latency = latencyMs ?? Math.max(0, now - this.startedAt)
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
      throw new HealthSampleInvalidError(this.stats.key, 'latencyMs', latencyMs)
    }
    this.settled = true
    this.stats.settle(now, latency, ok, this.probeEpoch, kind)
    return true
  }
}
