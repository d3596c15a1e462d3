import { type CancelTimer, type Clock, scheduleOn } from '../clock.js'

/** Abort reason when the caller's signal fired. */
export const CALLER = Symbol('caller aborted')
/** Abort reason when the call's deadline passed. */
export const DEADLINE = Symbol('deadline')

/**
 * One call's stop condition: its deadline on the mesh's clock or the caller's abort. The
 * `AbortController`, its deadline timer and the listener on the caller's signal are made only when
 * something asks for `signal` (a network transport, an async handler, a backoff); until then `reason`
 * is read from the clock and the caller's signal, so a synchronous in-process call pays for none of them.
 */
export class CallSignal {
  private controller: AbortController | undefined
  private cancelTimer: CancelTimer | undefined

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
      const now = this.now()
      if (now !== undefined) controller.abort(now)
      else {
        const wait = this.deadline - this.clock.now()
        this.cancelTimer = scheduleOn(this.clock, () => controller.abort(DEADLINE), wait)
        this.caller?.addEventListener('abort', this.onCallerAbort, { once: true })
      }
    }
    return this.controller.signal
  }

  /** Why the call must stop, or `undefined` while it may go on. */
  get reason(): typeof CALLER | typeof DEADLINE | undefined {
    const controller = this.controller
    if (controller === undefined) return this.now()
    if (controller.signal.aborted) return controller.signal.reason as typeof CALLER | typeof DEADLINE
    // The clock, not only the timer, says when the deadline passed: a timer may fire late.
    if (this.clock.now() < this.deadline) return undefined
    controller.abort(DEADLINE)
    return DEADLINE
  }

  get aborted(): boolean {
    return this.reason !== undefined
  }

  /** Stops the timer and the listener. */
  dispose(): void {
    if (this.cancelTimer !== undefined) this.cancelTimer()
    if (this.controller !== undefined) this.caller?.removeEventListener('abort', this.onCallerAbort)
  }

  private now(): typeof CALLER | typeof DEADLINE | undefined {
    if (this.caller?.aborted === true) return CALLER
    if (this.clock.now() >= this.deadline) return DEADLINE
    return undefined
  }

  private readonly onCallerAbort = () => this.controller?.abort(CALLER)
}
