import type { Clock } from '../../src/clock.js'

/** A clock that moves only when told. */
export interface FakeClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

export function fakeClock(start = Date.parse('2026-11-22T00:00:00Z')): FakeClock {
  let now = start
  return {
    now: () => now,
    advance(ms) {
      now += ms
    },
    set(ms) {
      now = ms
    },
  }
}
