import { LRUCache } from 'lru-cache'
import type { Clock } from '../src/clock.js'

interface Bucket {
  tokens: number
  at: number
}

/** Per-peer token buckets; the table is bounded, so a swarm of peer ids cannot grow it without end. */
export interface RateLimiter {
  /** Takes one token for `peer`; false when its bucket is empty. */
  take(peer: string): boolean
  readonly perSecond: number
}

export function rateLimiter(init: {
  perSecond: number
  burst: number
  clock: Clock
  maxPeers?: number
}): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: init.maxPeers ?? 4096 })
  return {
    perSecond: init.perSecond,
    take(peer) {
      const now = init.clock.now()
      const bucket = buckets.get(peer) ?? { tokens: init.burst, at: now }
      bucket.tokens = Math.min(init.burst, bucket.tokens + ((now - bucket.at) / 1000) * init.perSecond)
      bucket.at = now
      buckets.set(peer, bucket)
      if (bucket.tokens < 1) return false
      bucket.tokens -= 1
      return true
    },
  }
}
