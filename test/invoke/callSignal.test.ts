import { describe, expect, it } from 'vitest'
import { AttemptRequest } from '../../src/invoke/_attempt.js'
import { CALLER, CallSignal, DEADLINE } from '../../src/invoke/_callSignal.js'
import { fakeClock } from '../_helpers/clock.js'

// CallSignal.onStop: the stop of a call heard without an AbortSignal (the MCP transport's one
// controller per request listens through it), and the same reasons as `signal` gives.

const attempt = (call: CallSignal, attemptSignal?: AbortSignal) =>
  new AttemptRequest(
    'acme.com/x/y',
    '1.0.0',
    { id: 'p', endpoint: 'mcp+stdio:tools/y' },
    {},
    '{}',
    'inv_1',
    1,
    undefined,
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'local',
    call.deadline,
    1024,
    call,
    attemptSignal,
  )

describe('CallSignal.onStop', () => {
  it('fires once with DEADLINE when the deadline timer runs, and `signal` read later is aborted with it', () => {
    const clock = fakeClock()
    const call = new CallSignal(clock.now() + 100, undefined, clock)
    const heard: unknown[] = []
    call.onStop((reason) => heard.push(reason))
    clock.advance(99)
    expect(heard).toEqual([])
    expect(call.aborted).toBe(false)
    clock.advance(1)
    clock.advance(50)
    expect(heard).toEqual([DEADLINE])
    expect(call.reason).toBe(DEADLINE)
    expect(call.signal.aborted).toBe(true)
    expect(call.signal.reason).toBe(DEADLINE)
    call.dispose()
  })

  it('fires with CALLER when the caller aborts, also for a listener added after `signal` was made', () => {
    const clock = fakeClock()
    const caller = new AbortController()
    const call = new CallSignal(clock.now() + 1000, caller.signal, clock)
    const signal = call.signal
    const heard: unknown[] = []
    call.onStop((reason) => heard.push(reason))
    caller.abort('no')
    expect(heard).toEqual([CALLER])
    expect(signal.reason).toBe(CALLER)
    call.dispose()
  })

  it('calls a listener at once when the call must already stop, and not at all once taken off', () => {
    const clock = fakeClock()
    const late = new CallSignal(clock.now() - 1, undefined, clock)
    const heard: unknown[] = []
    late.onStop((reason) => heard.push(reason))
    expect(heard).toEqual([DEADLINE])
    const call = new CallSignal(clock.now() + 10, undefined, clock)
    const off = call.onStop((reason) => heard.push(reason))
    off()
    clock.advance(20)
    expect(heard).toEqual([DEADLINE])
    expect(call.reason).toBe(DEADLINE)
    call.dispose()
  })

  it('a jump of the clock past the deadline reaches the listeners and the reason', () => {
    const clock = fakeClock()
    const call = new CallSignal(clock.now() + 10, undefined, clock)
    const heard: unknown[] = []
    call.onStop((reason) => heard.push(reason))
    clock.set(clock.now() + 10_000)
    expect(call.reason).toBe(DEADLINE)
    expect(heard).toEqual([DEADLINE])
    call.dispose()
  })
})

describe('AttemptRequest.onAbort', () => {
  it('goes through the call signal without making an AbortSignal', () => {
    const clock = fakeClock()
    const call = new CallSignal(clock.now() + 100, undefined, clock)
    const request = attempt(call)
    let heard = 0
    request.onAbort(() => heard++)
    clock.advance(100)
    expect(heard).toBe(1)
    call.dispose()
  })

  it('listens on the attempt signal when the attempt has its own timeout', () => {
    const clock = fakeClock()
    const call = new CallSignal(clock.now() + 100, undefined, clock)
    const own = new AbortController()
    const request = attempt(call, own.signal)
    let heard = 0
    const off = request.onAbort(() => heard++)
    own.abort()
    expect(heard).toBe(1)
    off()
    expect(attempt(call, own.signal).onAbort(() => heard++)).toBeTypeOf('function')
    expect(heard).toBe(2)
    call.dispose()
  })
})
