import { type CancelTimer, type Clock, scheduleOn } from '../../src/clock.js'
import type { Logger } from '../../src/logger.js'

export interface RepublisherInit {
  clock: Clock
  /** Time from one publish of the root to the next republish, on `clock`. */
  intervalMs: number
  /** Publishes the current root again (sequence + 1, fresh validity) and saves the index. */
  republish: () => Promise<void>
  log: Logger
}

/**
 * Keeps the registry's IPNS name valid while it runs: an IPNS record (and a DHT peer's copy of it)
 * expires, so `intervalMs` after the last publish of the root, that root is published again. Each
 * publish (a record's, or this one) starts the interval over; the timer is on the mesh's clock.
 */
export class Republisher {
  private cancel: CancelTimer | undefined
  private running = false
  /** The republish under way, if any (awaited on stop). */
  private current: Promise<void> | undefined

  constructor(private readonly init: RepublisherInit) {}

  /** Starts the interval (again) from now: called on start and after each publish of the root. */
  published(): void {
    if (!this.running) return
    this.cancel?.()
    this.cancel = scheduleOn(this.init.clock, () => this.fire(), this.init.intervalMs)
  }

  start(): void {
    this.running = true
    this.published()
  }

  async stop(): Promise<void> {
    this.running = false
    this.cancel?.()
    this.cancel = undefined
    await this.current
  }

  private fire(): void {
    this.cancel = undefined
    if (!this.running) return
    const run = this.init
      .republish()
      .catch((err: unknown) => this.init.log.error('IPNS republish of the root: %s', (err as Error).message))
      .finally(() => {
        if (this.current === run) this.current = undefined
        // A failed republish is tried again one interval later; a successful one rescheduled itself.
        if (this.cancel === undefined) this.published()
      })
    this.current = run
  }
}
