import type { CancelTimer, Clock } from '../../src/clock.js'

/** A clock that moves only when told, with timers that fire only as it moves. */
export interface FakeClock extends Required<Clock> {
  /**
   * Moves time on by `ms`, firing the timers that fall due in time order (ties in the order they were
   * set), timers set by those callbacks included; `now()` reads each timer's due time as it fires.
   */
  advance(ms: number): void
  /**
   * {@link advance}, with one event-loop turn before each timer and after the last, so the promise
   * chains a timer sets off (an abort, a failed attempt, a ledger commit) run before the next one.
   */
  advanceAsync(ms: number): Promise<void>
  /** Jumps to `ms`: forward fires timers as `advance` does; backward leaves them pending. */
  set(ms: number): void
  /** Timers set and neither fired nor cancelled. */
  readonly pending: number
}

interface Timer {
  readonly at: number
  readonly order: number
  readonly fn: () => void
}

/** One event-loop turn: every queued microtask (and what it queues) has run when it resolves. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export function fakeClock(start = Date.parse('2026-11-22T00:00:00Z')): FakeClock {
  let now = start
  let order = 0
  const timers: Timer[] = []
  const due = (until: number): Timer | undefined => {
    let next: Timer | undefined
    for (const t of timers)
      if (
        t.at <= until &&
        (next === undefined || t.at < next.at || (t.at === next.at && t.order < next.order))
      )
        next = t
    if (next !== undefined) timers.splice(timers.indexOf(next), 1)
    return next
  }
  const fire = (timer: Timer) => {
    now = Math.max(now, timer.at)
    timer.fn()
  }
  const clock: FakeClock = {
    now: () => now,
    schedule(fn, ms): CancelTimer {
      const timer: Timer = { at: now + Math.max(0, ms), order: order++, fn }
      timers.push(timer)
      return () => {
        const i = timers.indexOf(timer)
        if (i >= 0) timers.splice(i, 1)
      }
    },
    advance(ms) {
      const until = now + ms
      for (let t = due(until); t !== undefined; t = due(until)) fire(t)
      now = until
    },
    async advanceAsync(ms) {
      const until = now + ms
      for (;;) {
        await tick()
        const t = due(until)
        if (t === undefined) break
        fire(t)
      }
      now = until
    },
    set(ms) {
      if (ms >= now) clock.advance(ms - now)
      else now = ms
    },
    get pending() {
      return timers.length
    },
  }
  return clock
}
