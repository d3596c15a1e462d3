/** Abort reason when the caller's signal fired. */
export const CALLER = Symbol('caller aborted')
/** Abort reason when the call's deadline passed. */
export const DEADLINE = Symbol('deadline')

/**
 * One call's stop condition: its deadline or the caller's abort. The `AbortController`, its deadline
 * timer and the listener on the caller's signal are made only when something asks for `signal` (a
 * network transport, an async handler, a backoff); until then `reason` is read from the clock and
 * the caller's signal, so a synchronous in-process call pays for none of them.
 */
export class CallSignal {
  private controller: AbortController | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly deadline: number,
    private readonly caller: AbortSignal | undefined,
  ) {}

  /** Fires with {@link DEADLINE} or {@link CALLER}. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController()
      this.controller = controller
      const now = this.now()
      if (now !== undefined) controller.abort(now)
      else {
        this.timer = setTimeout(() => controller.abort(DEADLINE), Math.max(0, this.deadline - Date.now()))
        this.caller?.addEventListener('abort', this.onCallerAbort, { once: true })
      }
    }
    return this.controller.signal
  }

  /** Why the call must stop, or `undefined` while it may go on. */
  get reason(): typeof CALLER | typeof DEADLINE | undefined {
    const controller = this.controller
    if (controller === undefined) return this.now()
    return controller.signal.aborted
      ? (controller.signal.reason as typeof CALLER | typeof DEADLINE)
      : undefined
  }

  get aborted(): boolean {
    return this.reason !== undefined
  }

  /** Stops the timer and the listener. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.controller !== undefined) this.caller?.removeEventListener('abort', this.onCallerAbort)
  }

  private now(): typeof CALLER | typeof DEADLINE | undefined {
    if (this.caller?.aborted === true) return CALLER
    if (Date.now() >= this.deadline) return DEADLINE
    return undefined
  }

  private readonly onCallerAbort = () => this.controller?.abort(CALLER)
}
