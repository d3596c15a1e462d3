import {
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  ExponentialBackoff,
  type IBackoff,
  noJitterGenerator,
} from 'cockatiel'
import type { HealthOptions } from './healthOptions.js'

/** Circuit states as the public API names them. */
export type CircuitStateName = 'closed' | 'open' | 'half-open'

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
}

/**
 * What strategies read about a provider. The live implementation is {@link ProviderStats}; tests and
 * custom strategies may pass any object of this shape (see `staticStats`).
 */
export interface ProviderStatsView {
  /** Calls begun and not yet settled. */
  readonly inFlight: number
  /** Outcomes ever recorded (successes and failures). */
  readonly samples: number
  /** Time-weighted EWMA of observed latency in ms (failures count as `failurePenaltyMs`), if any. */
  latencyMs(now: number): number | undefined
  /** Peak-EWMA latency (Finagle): jumps up to a slower sample, decays with time, toward 0 when idle. */
  peakLatencyMs(now: number): number | undefined
  /** Successes / outcomes over the sliding window, if the window holds any outcome. */
  successRatio(now: number): number | undefined
}

/** Hooks the tracker gives each stats object. */
export interface StatsOwner {
  readonly options: Readonly<Required<HealthOptions>>
  /** Admission changed without a state change (a half-open probe slot was taken or freed). */
  touched(): void
  transition(stats: ProviderStats, from: CircuitState, to: CircuitState, now: number, why: string): void
}

/**
 * Live statistics and the circuit breaker of one provider. Updated by the invocation layer through
 * `HealthTracker.begin`; read by every strategy. The breaker decisions come from cockatiel 3
 * (`ConsecutiveBreaker` or `CountBreaker` opens; `ExponentialBackoff` spaces the half-open attempts);
 * the state machine runs here, on the injected clock, because cockatiel's `CircuitBreakerPolicy`
 * reads `Date.now()`, wraps execution, and admits a single half-open probe.
 */
export class ProviderStats implements ProviderStatsView {
  readonly key: string
  inFlight = 0
  samples = 0
  /** Last time the provider was begun or settled (for forgetting idle providers). */
  lastUsed: number
  /** Circuit state, as cockatiel's enum. */
  circuit: CircuitState = CircuitState.Closed
  /** When an open circuit may half-open. */
  reopenAt = 0
  /** Probes in flight in the current half-open period. */
  probes = 0
  /** Bumped on every open, so probes begun before a re-open are not counted against the next one. */
  epoch = 0
  private probeSuccesses = 0
  private ewma = 0
  private ewmaAt = 0
  private peak = 0
  private peakAt = 0
  private readonly bucketEpoch: Float64Array
  private readonly ok: Uint32Array
  private readonly failed: Uint32Array
  private readonly bucketMs: number
  private readonly consecutive: ConsecutiveBreaker
  private readonly ratio: CountBreaker
  private readonly backoffFactory: ExponentialBackoff<unknown>
  private backoff: IBackoff<unknown> | undefined
  private readonly owner: StatsOwner

  constructor(key: string, owner: StatsOwner, now: number) {
    const o = owner.options
    this.key = key
    this.owner = owner
    this.lastUsed = now
    this.bucketMs = o.windowMs / o.windowBuckets
    this.bucketEpoch = new Float64Array(o.windowBuckets).fill(-1)
    this.ok = new Uint32Array(o.windowBuckets)
    this.failed = new Uint32Array(o.windowBuckets)
    this.consecutive = new ConsecutiveBreaker(o.consecutiveFailures)
    this.ratio = new CountBreaker({
      threshold: o.failureRatio,
      size: o.ratioWindowCalls,
      minimumNumberOfCalls: o.ratioMinimumCalls,
    })
    this.backoffFactory = new ExponentialBackoff({
      generator: noJitterGenerator,
      initialDelay: o.halfOpenAfterMs,
      maxDelay: o.maxHalfOpenAfterMs,
      exponent: 2,
    })
  }

  /** The circuit state's public name (an open circuit past its time reads as half-open). */
  circuitState(now: number): CircuitStateName {
    if (this.circuit === CircuitState.Open && now >= this.reopenAt) return 'half-open'
    return NAMES[this.circuit]
  }

  latencyMs(now: number): number | undefined {
    void now
    return this.samples === 0 ? undefined : this.ewma
  }

  peakLatencyMs(now: number): number | undefined {
    if (this.samples === 0) return undefined
    const elapsed = now - this.peakAt
    return elapsed > 0 ? this.peak * Math.exp(-elapsed / this.owner.options.decayMs) : this.peak
  }

  successRatio(now: number): number | undefined {
    const current = Math.floor(now / this.bucketMs)
    const oldest = current - this.bucketEpoch.length
    let ok = 0
    let failed = 0
    for (let i = 0; i < this.bucketEpoch.length; i++) {
      const e = this.bucketEpoch[i]!
      if (e > oldest && e <= current) {
        ok += this.ok[i]!
        failed += this.failed[i]!
      }
    }
    const total = ok + failed
    return total === 0 ? undefined : ok / total
  }

  /**
   * Whether selection may send a call here now: closed circuits always; open ones never until their
   * time, then (half-open) while fewer than `halfOpenProbes` probes are in flight.
   */
  admits(now: number): boolean {
    if (this.circuit === CircuitState.Closed) return true
    if (this.circuit === CircuitState.Open) {
      if (now < this.reopenAt) return false
      this.halfOpen(now)
    }
    return this.probes < this.owner.options.halfOpenProbes
  }

  /** Records the start of a call; returns whether it is a half-open probe. */
  begin(now: number): boolean {
    this.inFlight++
    this.lastUsed = now
    if (this.circuit === CircuitState.Open && now >= this.reopenAt) this.halfOpen(now)
    if (this.circuit === CircuitState.HalfOpen && this.probes < this.owner.options.halfOpenProbes) {
      this.probes++
      this.owner.touched()
      return true
    }
    return false
  }

  /** Records a settled call. `probeEpoch` is the epoch the call began in when it was a probe, else -1. */
  settle(now: number, latencyMs: number, ok: boolean, probeEpoch: number, kind: string): void {
    this.inFlight--
    this.lastUsed = now
    this.samples++
    const o = this.owner.options
    const observed = ok ? latencyMs : Math.max(latencyMs, o.failurePenaltyMs)
    this.observe(now, observed)
    this.count(now, ok)
    const probe = probeEpoch === this.epoch && probeEpoch >= 0 && this.circuit === CircuitState.HalfOpen
    if (probe) {
      this.probes--
      this.owner.touched()
    }
    if (ok) {
      if (probe) {
        this.probeSuccesses++
        if (this.probeSuccesses >= o.halfOpenProbes) {
          this.consecutive.success()
          this.ratio.success(CircuitState.HalfOpen)
          this.backoff = undefined
          this.setState(CircuitState.Closed, now, `${this.probeSuccesses} half-open probes succeeded`)
        }
      } else if (this.circuit === CircuitState.Closed) {
        this.consecutive.success()
        this.ratio.success(CircuitState.Closed)
      }
      return
    }
    if (probe) {
      this.ratio.failure(CircuitState.HalfOpen)
      this.open(now, `half-open probe failed (${kind})`)
    } else if (this.circuit === CircuitState.Closed) {
      const byCount = this.consecutive.failure()
      const byRatio = this.ratio.failure(CircuitState.Closed)
      if (byCount || byRatio) {
        const why = byCount
          ? `${o.consecutiveFailures} consecutive failures (last: ${kind})`
          : `failure ratio above ${o.failureRatio} over the last ${o.ratioWindowCalls} calls (last: ${kind})`
        this.open(now, why)
      }
    }
  }

  /** Records a call that ended without saying anything about the provider (cancelled by the caller). */
  release(now: number, probeEpoch: number): void {
    this.inFlight--
    this.lastUsed = now
    if (probeEpoch === this.epoch && probeEpoch >= 0 && this.circuit === CircuitState.HalfOpen) {
      this.probes--
      this.owner.touched()
    }
  }

  private observe(now: number, rtt: number): void {
    const o = this.owner.options
    if (this.samples === 1) {
      this.ewma = rtt
      this.peak = rtt
    } else {
      const ewmaWeight = Math.max(
        1 - Math.exp(-Math.max(0, now - this.ewmaAt) / o.decayMs),
        o.minSampleWeight,
      )
      this.ewma += (rtt - this.ewma) * ewmaWeight
      const elapsed = Math.max(0, now - this.peakAt)
      const decayed = this.peak * Math.exp(-elapsed / o.decayMs)
      if (rtt > decayed) this.peak = rtt
      else
        this.peak =
          decayed + (rtt - decayed) * Math.max(1 - Math.exp(-elapsed / o.decayMs), o.minSampleWeight)
    }
    this.ewmaAt = now
    this.peakAt = now
  }

  private count(now: number, ok: boolean): void {
    const epoch = Math.floor(now / this.bucketMs)
    const i = epoch % this.bucketEpoch.length
    if (this.bucketEpoch[i] !== epoch) {
      this.bucketEpoch[i] = epoch
      this.ok[i] = 0
      this.failed[i] = 0
    }
    if (ok) this.ok[i]!++
    else this.failed[i]!++
  }

  private open(now: number, why: string): void {
    this.backoff = this.backoff === undefined ? this.backoffFactory.next() : this.backoff.next(undefined)
    this.reopenAt = now + this.backoff.duration
    this.epoch++
    this.probes = 0
    this.probeSuccesses = 0
    this.setState(CircuitState.Open, now, `${why}; half-open in ${this.backoff.duration} ms`)
  }

  private halfOpen(now: number): void {
    this.probes = 0
    this.probeSuccesses = 0
    this.setState(CircuitState.HalfOpen, now, 'open time elapsed')
  }

  private setState(to: CircuitState, now: number, why: string): void {
    const from = this.circuit
    if (from === to) return
    this.circuit = to
    this.owner.transition(this, from, to, now, why)
  }
}
