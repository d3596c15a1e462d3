import { type CancelTimer, type Clock, scheduleOn } from '../clock.js'

/** Abort reason when the caller's signal fired. */
export const CALLER = Symbol('caller aborted')
/** Abort reason when the call's deadline passed. */
export const DEADLINE = Symbol('deadline')

type StopReason = typeof CALLER | typeof DEADLINE

/**
 * One call's stop condition: its deadline on the mesh's clock or the caller's abort. The deadline
 * timer and the listener on the caller's signal are set only when something must hear of the stop
 * (`signal` or `onStop`), and the `AbortController` only when something reads `signal` (a network
 * transport, an async handler, a backoff); until then `reason` is read from the clock and the
 * caller's signal, so a synchronous in-process call pays for none of them. A transport that has its
 * own controller per request (MCP) takes `onStop` instead of a second one.
 */
export class CallSignal {
  private controller: AbortController | undefined
  private cancelTimer: CancelTimer | undefined
  private armed = false
  private fired: StopReason | undefined
  private readonly listeners = new Set<(reason: StopReason) => void>()

  constructor(
    /** Epoch ms on `clock` by which the call must finish. */
    readonly deadline: number,
    private readonly caller: AbortSignal | undefined,
    /** The clock `deadline` is on. */
    readonly clock: Clock,
  ) {}

  /** Fires with {@link DEADLINE} or {@link CALLER}. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController()
      this.controller = controller
      if (this.fired !== undefined) controller.abort(this.fired)
      else this.arm()
    }
    return this.controller.signal
  }

  /**
   * Calls `fn` once when the call must stop (at once when it already must); the returned function
   * takes it off again. No `AbortController` is made for it.
   */
  onStop(fn: (reason: StopReason) => void): () => void {
    if (this.fired === undefined) this.arm()
    if (this.fired !== undefined) {
      fn(this.fired)
      return noop
    }
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Why the call must stop, or `undefined` while it may go on. */
  get reason(): StopReason | undefined {
    if (this.fired !== undefined) return this.fired
    if (!this.armed) return this.now()
    // The clock, not only the timer, says when the deadline passed: a timer may fire late.
    if (this.clock.now() < this.deadline) return undefined
    this.fire(DEADLINE)
    return DEADLINE
  }

  get aborted(): boolean {
    return this.reason !== undefined
  }

  /** Stops the timer and the listener. */
  dispose(): void {
    if (this.cancelTimer !== undefined) this.cancelTimer()
    if (this.armed) this.caller?.removeEventListener('abort', this.onCallerAbort)
    this.listeners.clear()
  }

  /** Sets the deadline timer and the caller listener once, or fires at once when the call must stop now. */
  private arm(): void {
    if (this.armed) return
    const now = this.now()
    if (now !== undefined) {
      this.fire(now)
      return
    }
    this.armed = true
    this.cancelTimer = scheduleOn(this.clock, () => this.fire(DEADLINE), this.deadline - this.clock.now())
    this.caller?.addEventListener('abort', this.onCallerAbort, { once: true })
  }

  private fire(reason: StopReason): void {
    if (this.fired !== undefined) return
    this.fired = reason
    this.controller?.abort(reason)
    for (const fn of [...this.listeners]) fn(reason)
    this.listeners.clear()
  }

  private now(): StopReason | undefined {
    if (this.caller?.aborted === true) return CALLER
    if (this.clock.now() >= this.deadline) return DEADLINE
    return undefined
  }

  private readonly onCallerAbort = () => this.fire(CALLER)
}

function noop(): void {}
