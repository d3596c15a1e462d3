/** Cancels a timer set with {@link Clock.schedule}; a no-op once the timer fired or was cancelled. */
export type CancelTimer = () => void

/**
 * Where time comes from. Injected everywhere so tests can drive time by hand: every deadline, attempt
 * timeout, backoff and registry lookup timeout reads `now` and waits through `schedule`.
 *
 * @example
 * ```ts
 * // A clock that only tells the time: its deadlines still fire, on the system timers.
 * const mesh = await createMesh({ clock: { now: () => Date.now() } })
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /**
   * Calls `fn` once, `ms` milliseconds from now on this clock (never synchronously), and returns what
   * cancels it. Optional: for a clock without it the mesh schedules on the system timers, which count
   * real milliseconds from the moment of scheduling whatever `now` says.
   */
  schedule?(fn: () => void, ms: number): CancelTimer
}

/**
 * The machine's clock. Its timers keep the process alive while they are pending, like the work they
 * guard (a call, a backoff, a lookup); the mesh cancels each one when that work ends.
 */
export const systemClock: Required<Clock> = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
}

/**
 * Schedules `fn` on `clock`, or on the system timers when the clock has no `schedule` of its own.
 *
 * @example
 * ```ts
 * const cancel = scheduleOn(clock, () => controller.abort(), 5_000)
 * try { await work(controller.signal) } finally { cancel() }
 * ```
 */
export function scheduleOn(clock: Clock, fn: () => void, ms: number): CancelTimer {
  return clock.schedule === undefined ? systemClock.schedule(fn, ms) : clock.schedule(fn, ms)
}
