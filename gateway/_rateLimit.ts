import type { Clock } from '../src/clock.js'
import { ConfigError } from '../src/errors/registry.js'
import { RateLimitedError } from './errors.js'

/** Per-principal rate limit: a token bucket refilled at `perSecond`, holding at most `burst`. */
export interface RateLimitInit {
  /** Requests a second, sustained. */
  perSecond: number
  /** Requests allowed at once after a quiet spell. @default 2 x perSecond */
  burst?: number
}

/** @default { perSecond: 100, burst: 200 } */
export const DEFAULT_RATE_LIMIT: Readonly<Required<RateLimitInit>> = Object.freeze({
  perSecond: 100,
  burst: 200,
})

/** Most principals tracked; the fullest buckets (idle ones) are dropped past it. */
const MAX_BUCKETS = 10_000

interface Bucket {
  tokens: number
  at: number
}

/** Token buckets per principal, on the mesh's clock. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly perMs: number

  constructor(
    private readonly limit: Readonly<Required<RateLimitInit>> | undefined,
    private readonly clock: Clock,
  ) {
    this.perMs = limit === undefined ? 0 : limit.perSecond / 1000
  }

  static check(init: RateLimitInit | false | undefined): Readonly<Required<RateLimitInit>> | undefined {
    if (init === false) return undefined
    if (init === undefined) return DEFAULT_RATE_LIMIT
    if (init === null || typeof init !== 'object')
      throw new ConfigError('gateway.rateLimit', 'must be { perSecond, burst? } or false')
    const { perSecond, burst = perSecond * 2 } = init
    if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0)
      throw new ConfigError('gateway.rateLimit.perSecond', 'must be a positive number')
    if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1)
      throw new ConfigError('gateway.rateLimit.burst', 'must be a number >= 1')
    return Object.freeze({ perSecond, burst })
  }

  /** Takes one token for `principal`, or throws `RateLimitedError` with when to retry. */
  take(principal: string): void {
    const limit = this.limit
    if (limit === undefined) return
    const now = this.clock.now()
    let bucket = this.buckets.get(principal)
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(now)
      bucket = { tokens: limit.burst, at: now }
      this.buckets.set(principal, bucket)
    } else {
      bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) * this.perMs)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return
    }
    const waitMs = (1 - bucket.tokens) / this.perMs
    throw new RateLimitedError(principal, limit.perSecond, Math.max(1, Math.ceil(waitMs / 1000)))
  }

  /** Drops buckets that have refilled (their principals are idle). */
  private sweep(now: number): void {
    const limit = this.limit!
    for (const [key, b] of this.buckets)
      if (b.tokens + (now - b.at) * this.perMs >= limit.burst) this.buckets.delete(key)
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear()
  }
}
