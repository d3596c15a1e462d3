import { describe, expect, it } from 'vitest'
import { scheduleOn, systemClock } from '../../src/clock.js'
import { fakeClock, tick } from '../_helpers/clock.js'

describe('fake clock', () => {
  it('fires due timers in time order, ties in the order set, each at its own time', () => {
    const clock = fakeClock(1_000)
    const fired: string[] = []
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`)
    clock.schedule(at('c'), 30)
    clock.schedule(at('a'), 10)
    clock.schedule(at('b'), 10)
    clock.advance(29)
    expect(fired).toEqual(['a@1010', 'b@1010'])
    expect(clock.now()).toBe(1_029)
    clock.advance(1)
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030'])
    expect(clock.pending).toBe(0)
  })

  it('fires timers that callbacks set when they fall due within the same advance', () => {
    const clock = fakeClock(0)
    const fired: number[] = []
    const again = () => {
      fired.push(clock.now())
      if (fired.length < 3) clock.schedule(again, 5)
    }
    clock.schedule(again, 5)
    clock.advance(12)
    expect(fired).toEqual([5, 10])
    expect(clock.pending).toBe(1)
    clock.advance(3)
    expect(fired).toEqual([5, 10, 15])
  })

  it('never fires a cancelled timer, and a zero-delay timer only when time moves', () => {
    const clock = fakeClock(0)
    const fired: string[] = []
    const cancel = clock.schedule(() => fired.push('cancelled'), 5)
    clock.schedule(() => fired.push('zero'), 0)
    expect(fired).toEqual([])
    cancel()
    cancel()
    clock.advance(10)
    expect(fired).toEqual(['zero'])
  })

  it('advanceAsync lets the promises a timer sets off run before the next timer fires', async () => {
    const clock = fakeClock(0)
    const log: string[] = []
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.schedule(resolve, ms))
    const run = (async () => {
      await sleep(10)
      log.push(`woke@${clock.now()}`)
      await Promise.resolve()
      await sleep(10)
      log.push(`woke again@${clock.now()}`)
    })()
    clock.schedule(() => log.push(`timer@${clock.now()}`), 15)
    await clock.advanceAsync(25)
    await run
    expect(log).toEqual(['woke@10', 'timer@15', 'woke again@20'])
    expect(clock.now()).toBe(25)
  })

  it('set jumps forward firing timers, and back without firing them', () => {
    const clock = fakeClock(100)
    const fired: number[] = []
    clock.schedule(() => fired.push(clock.now()), 50)
    clock.set(50)
    expect(fired).toEqual([])
    clock.set(160)
    expect(fired).toEqual([150])
    expect(clock.now()).toBe(160)
  })
})

describe('scheduleOn', () => {
  it("uses the clock's own timers when it has them", () => {
    const clock = fakeClock(0)
    let fired = false
    scheduleOn(
      clock,
      () => {
        fired = true
      },
      1,
    )
    expect(clock.pending).toBe(1)
    clock.advance(1)
    expect(fired).toBe(true)
  })

  it('falls back to the system timers for a clock that only tells the time', async () => {
    const fired = await new Promise<boolean>((resolve) => {
      scheduleOn({ now: () => 0 }, () => resolve(true), 0)
    })
    expect(fired).toBe(true)
    let late = false
    const cancel = systemClock.schedule(() => {
      late = true
    }, 0)
    cancel()
    await new Promise((resolve) => setTimeout(resolve, 1))
    await tick()
    expect(late).toBe(false)
  })
})
