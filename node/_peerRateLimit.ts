import type { Clock } from '../src/clock.js'

/** Most peers tracked at once; the least recently seen is forgotten first (memory stays bounded). */
const MAX_PEERS = 10_000

interface Bucket {
  tokens: number
  at: number
}

/**
 * A token bucket per peer on the mesh's clock (so tests drive it by hand): `perSecond` tokens a
 * second up to `burst`. libp2p's own RateLimiter keeps a wall-clock timer per key instead.
 */
export class PeerRateLimit {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes a token for `peer`: 0 when allowed, else the ms until the next token. */
  take(peer: string): number {
    const now = this.clock.now()
    let bucket = this.buckets.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now }
      if (this.buckets.size >= MAX_PEERS) this.buckets.delete(this.buckets.keys().next().value!)
    } else {
      this.buckets.delete(peer)
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000)
      bucket.at = now
    }
    this.buckets.set(peer, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.perSecond)
  }
}
