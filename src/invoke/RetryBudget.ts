import type { Clock } from '../clock.js'

/** Limits on retries across all calls of a mesh. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of first attempts in the window. @default 0.2 */
  ratio?: number
  /** Retries per second always allowed, so a quiet mesh can still retry. @default 10 */
  minPerSecond?: number
  /** The sliding window, in ms. @default 10000 */
  windowMs?: number
}

export const DEFAULT_RETRY_BUDGET: Readonly<Required<RetryBudgetOptions>> = Object.freeze({
  ratio: 0.2,
  minPerSecond: 10,
  windowMs: 10_000,
})

const BUCKETS = 10

/**
 * A retry budget (as in Finagle and gRPC): retries may add at most `ratio` extra load over the recent
 * calls, plus a small floor. When a provider falls over, retries stop instead of multiplying the load.
 */
export class RetryBudget {
  private readonly ratio: number
  private readonly floor: number
  private readonly bucketMs: number
  private readonly calls = new Array<number>(BUCKETS).fill(0)
  private readonly retries = new Array<number>(BUCKETS).fill(0)
  private current = 0
  private currentStart: number

  constructor(
    private readonly clock: Clock,
    options: RetryBudgetOptions = {},
  ) {
    const o = { ...DEFAULT_RETRY_BUDGET, ...options }
    this.ratio = o.ratio
    this.floor = (o.minPerSecond * o.windowMs) / 1000
    this.bucketMs = o.windowMs / BUCKETS
    this.currentStart = clock.now()
  }

  /** Counts a first attempt. */
  recordCall(): void {
    this.roll()
    this.calls[this.current]!++
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    this.roll()
    let calls = 0
    let retries = 0
    for (let i = 0; i < BUCKETS; i++) {
      calls += this.calls[i]!
      retries += this.retries[i]!
    }
    if (retries + 1 > this.floor + this.ratio * calls) return false
    this.retries[this.current]!++
    return true
  }

  private roll(): void {
    const now = this.clock.now()
    let elapsed = now - this.currentStart
    if (elapsed < this.bucketMs) return
    let steps = Math.min(BUCKETS, Math.floor(elapsed / this.bucketMs))
    this.currentStart += Math.floor(elapsed / this.bucketMs) * this.bucketMs
    while (steps-- > 0) {
      this.current = (this.current + 1) % BUCKETS
      this.calls[this.current] = 0
      this.retries[this.current] = 0
    }
    elapsed = 0
  }
}
