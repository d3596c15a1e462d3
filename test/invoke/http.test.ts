import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMeshError } from '../../src/errors/base.js'
import { BACKOFF_BASE_MS } from '../../src/invoke/attemptPolicy.js'
import type { Descriptor, Provider } from '../../src/record/schema.js'
import { fakeClock } from '../_helpers/clock.js'
import { refusedUrl, startHttpProvider } from '../_helpers/httpProvider.js'
import { until } from '../_helpers/until.js'
import { choice, descriptor, provider, setup } from './_setup.js'

let server: Awaited<ReturnType<typeof startHttpProvider>>
let gone: string
beforeAll(async () => {
  server = await startHttpProvider()
  gone = await refusedUrl()
})
afterAll(() => server.close())

async function run(providers: Provider[], d: Descriptor = descriptor(), extra = {}) {
  return setup(() => choice(providers, d), extra)
}

const p = (id: string, path: string, cost = '10') => provider(id, server.url(path), cost)
const fails = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error('expected the call to fail')
  return err as Error & { code: string; cause?: { code: string }; details: Record<string, unknown> }
}

describe('http transport under governance', () => {
  it('POSTs the canonical input with deadline, idempotency key and traceparent headers; validates and bills', async () => {
    const clock = fakeClock()
    const t = await run([p('a', '/ok')], descriptor({ idempotency: 'exactly-once' }), { clock })
    const before = server.received.length
    const started = clock.now()
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const result = await t.invoker.call(
      'x',
      { image: 'cat' },
      { idempotencyKey: 'order-7', timeoutMs: 5000, traceparent: parent },
    )
    expect(result.output).toEqual({ image: 'cat!' })
    expect(result.charge).toMatchObject({
      currency: 'USDC',
      amount: 10n,
      quantity: 1n,
      entry: result.lineage.completed,
    })
    const req = server.received[before]!
    expect(req.body).toEqual({ image: 'cat' })
    expect(req.headers['idempotency-key']).toBe('order-7')
    expect(req.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(req.headers.traceparent).not.toBe(parent)
    expect(req.headers['fmesh-invocation']).toBe(result.invocationId)
    expect(req.headers['fmesh-function']).toBe('acme.com/image/sharpen@1.0.0')
    expect(req.headers['fmesh-timeout-ms']).toBe('5000')
    expect(req.headers['fmesh-deadline']).toBe(String(started + 5000))
    const entries = await t.ledger.lineage(result.invocationId)
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[0]!.entry).toMatchObject({
      traceparent: req.headers.traceparent,
      idempotencyKey: 'order-7',
      recordId: 'bagaaieratest',
      reason: 'test order',
    })
    expect(t.outcomes).toEqual(['a:ok'])
    await t.close()
  })

  it('error: a hanging provider cannot hold the call past its deadline; the attempt is FAILED and not charged', async () => {
    const clock = fakeClock()
    const t = await run([p('a', '/hang')], descriptor(), { clock })
    const arrived = server.next('/hang')
    const failed = fails(t.invoker.call('x', { image: 'cat' }, { timeoutMs: 300 }))
    await arrived
    await clock.advanceAsync(300)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    expect(err.message).toContain('300 ms deadline')
    expect(t.outcomes).toEqual(['a:timeout'])
    const usage = await t.ledger.usage({ by: 'provider' })
    expect(usage).toEqual([])
    expect((await t.ledger.verify()).ok).toBe(true)
    await t.close()
  })

  it("the descriptor's maxDurationMs caps a longer timeoutMs", async () => {
    const clock = fakeClock()
    const t = await run([p('a', '/hang')], descriptor({ maxDurationMs: 250 }), { clock })
    const arrived = server.next('/hang')
    const failed = fails(t.invoker.call('x', { image: 'cat' }, { timeoutMs: 10_000 }))
    await arrived
    expect(server.received.at(-1)?.headers['fmesh-timeout-ms']).toBe('250')
    await clock.advanceAsync(250)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    expect(err.details).toMatchObject({ budgetMs: 250, deadlineFrom: 'descriptor maxDurationMs' })
    await t.close()
  })

  it('idempotent: fails over from a failing provider to a healthy one', async () => {
    const t = await run([p('bad', '/fail'), p('good', '/ok')])
    const result = await t.invoker.call('x', { image: 'dog' })
    expect(result.provider.id).toBe('good')
    expect(result.attempts).toBe(2)
    const types = (await t.ledger.lineage(result.invocationId)).map(
      (e) => `${e.entry.type}:${e.entry.provider}`,
    )
    expect(types).toEqual([
      'FUNCTION_INVOKED:bad',
      'FUNCTION_FAILED:bad',
      'FUNCTION_INVOKED:good',
      'FUNCTION_COMPLETED:good',
    ])
    expect(t.outcomes).toEqual(['bad:error', 'good:ok'])
    expect(result.lineage.entries).toHaveLength(4)
    await t.close()
  })

  it('idempotent: a hanging provider is given up after attemptTimeoutMs and the call fails over', async () => {
    const clock = fakeClock()
    const t = await run([p('stuck', '/hang'), p('good', '/ok')], descriptor(), { clock })
    const arrived = server.next('/hang')
    const call = t.invoker.call('x', { image: 'dog' }, { timeoutMs: 5000, attemptTimeoutMs: 200 })
    await arrived
    await clock.advanceAsync(200)
    // The attempt timer fired: the failure is recorded and the backoff set (beside the call deadline).
    await until(() => clock.pending === 2, { what: 'the backoff before the failover' })
    // The first backoff is at most BACKOFF_BASE_MS: well inside the next attempt's own timeout.
    await clock.advanceAsync(BACKOFF_BASE_MS)
    const result = await call
    expect(result.provider.id).toBe('good')
    const entries = await t.ledger.lineage(result.invocationId)
    expect(entries[1]!.entry).toMatchObject({
      type: 'FUNCTION_FAILED',
      error: { code: 'E_PROVIDER_TIMEOUT' },
    })
    expect(t.outcomes).toEqual(['stuck:timeout', 'good:ok'])
    await t.close()
  })

  it('idempotent: retries a flaky provider (503) and succeeds', async () => {
    const t = await run([p('flaky', '/flaky?n=1')])
    const result = await t.invoker.call('x', { image: 'dog' })
    expect(result.attempts).toBe(2)
    expect(result.provider.id).toBe('flaky')
    await t.close()
  })

  it('error: wrong-schema output is refused, never charged, and an idempotent call fails over', async () => {
    const t = await run([p('liar', '/wrong-schema'), p('good', '/ok')])
    const result = await t.invoker.call('x', { image: 'dog' })
    expect(result.provider.id).toBe('good')
    const entries = await t.ledger.lineage(result.invocationId)
    expect(entries[1]!.entry).toMatchObject({ type: 'FUNCTION_FAILED', error: { code: 'E_OUTPUT_INVALID' } })
    expect((await t.ledger.usage({ by: 'provider' })).map((u) => u.key)).toEqual(['good'])
    const only = await run([p('liar', '/wrong-schema')], descriptor(), {})
    const err = await fails(only.invoker.call('x', { image: 'dog' }, { maxAttempts: 1 }))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.cause?.code).toBe('E_OUTPUT_INVALID')
    expect(err.message).toContain("must have required property 'image'")
    await only.close()
    await t.close()
  })

  it('error: oversized responses are refused by content-length and while streaming', async () => {
    for (const path of ['/oversized', '/oversized-chunked']) {
      const t = await run([p('big', path)])
      const err = await fails(t.invoker.call('x', { image: 'dog' }, { maxAttempts: 1 }))
      expect(err.cause?.code, path).toBe('E_PROVIDER_RESPONSE_INVALID')
      expect(err.message, path).toContain('1048576 byte limit')
      await t.close()
    }
  })

  it('error: a non-JSON body is refused', async () => {
    const t = await run([p('text', '/not-json')])
    const err = await fails(t.invoker.call('x', { image: 'dog' }, { maxAttempts: 1 }))
    expect(err.cause?.code).toBe('E_PROVIDER_RESPONSE_INVALID')
    await t.close()
  })

  it('at-least-once: no retry once the request was sent; nothing runs twice', async () => {
    const t = await run([p('bad', '/fail'), p('good', '/ok')], descriptor({ idempotency: 'at-least-once' }))
    const before = server.executions('/ok')
    const failsBefore = server.executions('/fail')
    const err = await fails(t.invoker.call('x', { image: 'dog' }))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.details.stoppedBecause).toContain('at-least-once')
    expect(server.executions('/fail')).toBe(failsBefore + 1)
    expect(server.executions('/ok')).toBe(before)
    await t.close()
  })

  it('at-least-once: retries after sending only with the caller’s consent (retryUnsafe)', async () => {
    const t = await run([p('bad', '/fail'), p('good', '/ok')], descriptor({ idempotency: 'at-least-once' }))
    const result = await t.invoker.call('x', { image: 'dog' }, { retryUnsafe: true })
    expect(result.provider.id).toBe('good')
    await t.close()
  })

  it('at-least-once and exactly-once: fail over when the request was never delivered', async () => {
    for (const idempotency of ['at-least-once', 'exactly-once'] as const) {
      const t = await run([provider('gone', gone, '10'), p('good', '/ok')], descriptor({ idempotency }))
      const result = await t.invoker.call('x', { image: 'dog' }, { idempotencyKey: `k-${idempotency}` })
      expect(result.provider.id, idempotency).toBe('good')
      expect(t.outcomes, idempotency).toEqual(['gone:unavailable', 'good:ok'])
      const failed = (await t.ledger.lineage(result.invocationId))[1]!.entry
      expect(failed).toMatchObject({
        type: 'FUNCTION_FAILED',
        sent: false,
        error: { code: 'E_PROVIDER_UNREACHABLE' },
      })
      await t.close()
    }
  })

  it('exactly-once: never runs twice for a key, even after a failure that may have executed', async () => {
    const t = await run([p('bad', '/fail'), p('good', '/ok')], descriptor({ idempotency: 'exactly-once' }))
    const failsBefore = server.executions('/fail')
    const okBefore = server.executions('/ok')
    const first = await fails(t.invoker.call('x', { image: 'dog' }, { idempotencyKey: 'pay-1' }))
    expect(first.details.stoppedBecause).toContain('exactly-once')
    const again = await fails(
      t.invoker.call('x', { image: 'dog' }, { idempotencyKey: 'pay-1', retryUnsafe: true }),
    )
    expect(again.code).toBe('E_IDEMPOTENCY_OUTCOME_UNKNOWN')
    expect(server.executions('/fail')).toBe(failsBefore + 1)
    expect(server.executions('/ok')).toBe(okBefore)
    const err = await fails(t.invoker.call('x', { image: 'dog' }))
    expect(err.code).toBe('E_IDEMPOTENCY_KEY_REQUIRED')
    await t.close()
  })

  it('exactly-once: the same key returns the stored result without calling again', async () => {
    const t = await run([p('good', '/ok')], descriptor({ idempotency: 'exactly-once' }))
    const before = server.executions('/ok')
    const first = await t.invoker.call('x', { image: 'fox' }, { idempotencyKey: 'pay-2' })
    const second = await t.invoker.call('x', { image: 'fox' }, { idempotencyKey: 'pay-2' })
    expect(server.executions('/ok')).toBe(before + 1)
    expect(second).toMatchObject({
      output: first.output,
      invocationId: first.invocationId,
      replayed: true,
      charge: first.charge,
    })
    expect(second.lineage).toEqual(first.lineage)
    expect((await t.ledger.usage({ by: 'function' }))[0]).toMatchObject({ amount: 10n, calls: 1 })
    await t.close()
  })

  it('error: a 400 refusal is not retried even when idempotent', async () => {
    const t = await run([p('strict', '/refuse'), p('good', '/ok')])
    const err = await fails(t.invoker.call('x', { image: 'dog' }))
    expect(err.cause?.code).toBe('E_PROVIDER_FAILED')
    expect(err.details.stoppedBecause).toContain('not retryable')
    expect(err.message).toContain('HTTP 400: bad request')
    await t.close()
  })

  it('a retry budget stops retry storms across calls, and refills as its window slides on', async () => {
    // The budget's window is on the mesh clock; this clock only tells the time, so the few ms of
    // backoff between attempts run on the system timers.
    const clock = fakeClock()
    const t = await run([p('bad', '/fail')], descriptor(), {
      clock: { now: clock.now },
      retryBudget: { ratio: 0, minPerSecond: 0.2, windowMs: 10_000 },
    })
    const e1 = await fails(t.invoker.call('x', { image: 'a' }))
    const e2 = await fails(t.invoker.call('x', { image: 'b' }))
    expect(e1.details.attempts).toHaveLength(3)
    expect(e2.details.attempts).toHaveLength(1)
    expect(e2.details.stoppedBecause).toContain('retry budget')
    clock.advance(9_999)
    expect((await fails(t.invoker.call('x', { image: 'c' }))).details.attempts).toHaveLength(1)
    clock.advance(1)
    expect((await fails(t.invoker.call('x', { image: 'd' }))).details.attempts).toHaveLength(3)
    await t.close()
  })

  it('error: the caller aborting stops the call and reports it cancelled to health', async () => {
    const t = await run([p('stuck', '/hang')])
    const ac = new AbortController()
    const arrived = server.next('/hang')
    const pending = fails(t.invoker.call('x', { image: 'a' }, { signal: ac.signal }))
    await arrived
    ac.abort()
    const err = await pending
    expect(err.code).toBe('E_ABORTED')
    expect(t.outcomes).toEqual(['stuck:cancel'])
    const early = new AbortController()
    early.abort()
    expect((await fails(t.invoker.call('x', { image: 'a' }, { signal: early.signal }))).code).toBe(
      'E_ABORTED',
    )
    await t.close()
  })

  it('bills cost x the quantity the provider reports, and refuses more than a lease reserved', async () => {
    const t = await run([p('meter', '/quantity?q=3', '5')])
    const result = await t.invoker.call('x', { image: 'a' })
    expect(result.charge).toMatchObject({ amount: 15n, quantity: 3n })
    const lease = await t.ledger.leases.grant({
      capabilities: ['acme.com/**'],
      budgets: { USDC: 100n },
      ttlMs: 60_000,
    })
    const err = await fails(t.invoker.call('x', { image: 'a' }, { lease: lease.id, maxAttempts: 1 }))
    expect(err.message).toContain('reported 3 units but the call reserved 1')
    expect(t.ledger.leases.get(lease.id).balances.USDC).toMatchObject({ spent: 0n, reserved: 0n })
    const ok = await t.invoker.call('x', { image: 'a' }, { lease: lease.id, maxQuantity: 4n })
    expect(ok.charge.amount).toBe(15n)
    expect(t.ledger.leases.get(lease.id).balances.USDC).toMatchObject({
      spent: 15n,
      reserved: 0n,
      available: 85n,
    })
    expect(isMeshError(err)).toBe(true)
    await t.close()
  })
})
