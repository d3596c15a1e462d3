import { afterEach, describe, expect, it } from 'vitest'
import type { LocalHandler } from '../../src/marketplace/Marketplace.js'
import type { Descriptor } from '../../src/record/schema.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { rejection } from '../_helpers/rejection.js'
import { choice, descriptor, provider, setup } from './_setup.js'

// Deadlines, attempt timeouts and backoff driven by a fake clock: time moves only when the test says,
// so each test pins the exact millisecond something happens and never waits for real time.

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** An invoker on `clock` over local handlers, tried in the order given. */
async function invokerOver(
  clock: FakeClock,
  handlers: Record<string, LocalHandler>,
  options: { d?: Descriptor; random?: () => number } = {},
) {
  const providers = Object.keys(handlers).map((id) => provider(id, `local:acme.com/x/${id}@1.0.0`))
  const t = await setup(() => choice(providers, options.d), {
    clock,
    random: options.random ?? (() => 0.5),
  })
  cleanups.push(t.close)
  for (const [id, handler] of Object.entries(handlers))
    t.marketplace.register({ name: `acme.com/x/${id}`, version: '1.0.0' }, handler)
  return t
}

/** Whether a promise has settled, read without waiting for it. */
function watch(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false }
  const settle = () => {
    state.settled = true
  }
  promise.then(settle, settle)
  return state
}

const hang = () => new Promise<never>(() => {})

describe('deadlines on the injected clock', () => {
  it('error: a hanging local handler fails the call with E_DEADLINE_EXCEEDED exactly at its deadline', async () => {
    const clock = fakeClock()
    let handlerSignal: AbortSignal | undefined
    const t = await invokerOver(clock, {
      stuck: (_input, ctx) => {
        handlerSignal = ctx.signal
        return hang()
      },
    })
    const failed = rejection(t.invoker.call('x', { image: 'a' }, { timeoutMs: 1_000 }))
    const state = watch(failed)
    await clock.advanceAsync(0)
    expect(clock.pending).toBe(1) // the deadline, on the fake clock
    await clock.advanceAsync(999)
    expect(handlerSignal?.aborted).toBe(false)
    expect(state.settled).toBe(false)
    await clock.advanceAsync(1)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    expect(err.details).toMatchObject({ budgetMs: 1_000, deadlineFrom: 'timeoutMs' })
    expect(handlerSignal?.aborted).toBe(true)
    expect(t.outcomes).toEqual(['stuck:timeout'])
    expect(clock.pending).toBe(0)
  })

  it("error: the descriptor's maxDurationMs sets the deadline when the call sets none", async () => {
    const clock = fakeClock()
    const t = await invokerOver(clock, { stuck: hang }, { d: descriptor({ maxDurationMs: 250 }) })
    const failed = rejection(t.invoker.call('x', { image: 'a' }))
    await clock.advanceAsync(250)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    expect(err.details).toMatchObject({ budgetMs: 250, deadlineFrom: 'descriptor maxDurationMs' })
  })

  it('the deadline a handler sees is on the mesh clock', async () => {
    const clock = fakeClock()
    let deadline: number | undefined
    const t = await invokerOver(clock, {
      ok: (input: unknown, ctx) => {
        deadline = ctx.deadline
        return input
      },
    })
    const started = clock.now()
    await t.invoker.call('x', { image: 'a' }, { timeoutMs: 4_000 })
    expect(deadline).toBe(started + 4_000)
  })

  it('idempotent: an attempt timeout gives up a hanging provider and fails over to the next one', async () => {
    const clock = fakeClock()
    const ran: string[] = []
    const t = await invokerOver(
      clock,
      {
        stuck: () => {
          ran.push(`stuck@${clock.now()}`)
          return hang()
        },
        good: async (input: unknown) => {
          ran.push(`good@${clock.now()}`)
          return input
        },
      },
      { random: () => 0 },
    )
    const start = clock.now()
    const call = t.invoker.call('x', { image: 'a' }, { timeoutMs: 5_000, attemptTimeoutMs: 200 })
    await clock.advanceAsync(199)
    expect(ran).toEqual([`stuck@${start}`])
    // The attempt timer fires at 200; the first backoff is BACKOFF_BASE_MS x 0.5 (random() = 0).
    await clock.advanceAsync(1)
    await clock.advanceAsync(4)
    expect(ran).toEqual([`stuck@${start}`])
    await clock.advanceAsync(1)
    const result = await call
    expect(ran).toEqual([`stuck@${start}`, `good@${start + 205}`])
    expect(result.provider.id).toBe('good')
    expect(t.outcomes).toEqual(['stuck:timeout', 'good:ok'])
    const entries = await t.ledger.lineage(result.invocationId)
    expect(entries[1]!.entry).toMatchObject({
      type: 'FUNCTION_FAILED',
      provider: 'stuck',
      error: { code: 'E_PROVIDER_TIMEOUT' },
    })
    expect(clock.pending).toBe(0)
  })

  it('idempotent: retries wait an exponential backoff on the mesh clock', async () => {
    const clock = fakeClock()
    const ran: number[] = []
    const start = clock.now()
    const t = await invokerOver(
      clock,
      {
        flaky: (input: unknown) => {
          ran.push(clock.now() - start)
          if (ran.length < 3) throw new Error('not yet')
          return input
        },
      },
      { random: () => 1 },
    )
    const call = t.invoker.call('x', { image: 'a' })
    await clock.advanceAsync(9)
    expect(ran).toEqual([0])
    await clock.advanceAsync(1)
    expect(ran).toEqual([0, 10])
    await clock.advanceAsync(19)
    expect(ran).toEqual([0, 10])
    await clock.advanceAsync(1)
    const result = await call
    expect(ran).toEqual([0, 10, 30])
    expect(result.attempts).toBe(3)
    expect(clock.pending).toBe(0)
  })

  it('error: a backoff never waits past the deadline; the call then fails with E_DEADLINE_EXCEEDED', async () => {
    const clock = fakeClock()
    let runs = 0
    const t = await invokerOver(
      clock,
      {
        flaky: () => {
          runs++
          throw new Error('down')
        },
      },
      { random: () => 1 },
    )
    const failed = rejection(t.invoker.call('x', { image: 'a' }, { timeoutMs: 4 }))
    await clock.advanceAsync(4)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    expect(err.details.attempts).toEqual(['flaky: E_PROVIDER_FAILED'])
    expect(runs).toBe(1)
  })

  it('a clock without timers of its own still gets working deadlines, on the system timers', async () => {
    // A clock whose time stands still: the system timer counts the 5 ms from when it was set.
    const t = await setup(() => choice([provider('stuck', 'local:acme.com/x/stuck@1.0.0')]), {
      clock: { now: () => 0 },
    })
    cleanups.push(t.close)
    t.marketplace.register({ name: 'acme.com/x/stuck', version: '1.0.0' }, hang)
    const err = await rejection(t.invoker.call('x', { image: 'a' }, { timeoutMs: 5 }))
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
  })
})
