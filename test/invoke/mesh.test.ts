import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { governedFunction } from '../../src/invoke/governedFunction.js'
import { verifyInclusion } from '../../src/ledger/checkpoint.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { RecordDraft } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { startHttpProvider } from '../_helpers/httpProvider.js'
import { until } from '../_helpers/until.js'
import { upperFunction } from '../_helpers/upper.js'

let server: Awaited<ReturnType<typeof startHttpProvider>>
beforeAll(async () => {
  server = await startHttpProvider()
})
afterAll(() => server.close())

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function mesh(extra: Parameters<typeof createMesh>[0] = {}): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-mesh-'))
  const m = await createMesh({ ledger: { path: join(dir, 'ledger.sqlite') }, ...extra })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  cleanups.push(() => m.close())
  return m
}

const upper = upperFunction('7')

const fails = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error('expected a failure')
  return err as Error & { code: string; details: Record<string, unknown>; cause?: { code: string } }
}

describe('mesh.call', () => {
  it('calls a local function and leaves lineage, a charge and a provable entry', async () => {
    const m = await mesh()
    upper.register(m.marketplace)
    const result = await m.call<{ text: string }>(
      'acme.com/text/upper@^1',
      { text: 'hi' },
      { principal: 'alice' },
    )
    expect(result.output).toEqual({ text: 'HI' })
    expect(result).toMatchObject({ version: '1.0.0', attempts: 1, replayed: false })
    expect(result.provider.endpoint).toBe('local:acme.com/text/upper@1.0.0')
    expect(result.charge).toMatchObject({
      currency: 'USDC',
      amount: 7n,
      quantity: 1n,
      entry: result.lineage.completed,
    })
    const entries = await m.lineage.entries(result.invocationId)
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[0]!.entry).toMatchObject({
      principal: 'alice',
      recordId: 'local:acme.com/text/upper@1.0.0',
    })
    const proof = await m.lineage.proof(result.lineage.completed)
    expect(verifyInclusion(proof, { keyId: await m.lineage.keyId() })).toBe(true)
    expect(await m.lineage.verify()).toMatchObject({ ok: true, entries: 2, completed: 1, charges: 1 })
    expect(await m.billing.usage({ by: 'principal' })).toEqual([
      { key: 'alice', currency: 'USDC', amount: 7n, calls: 1 },
    ])
  })

  it('error: invalid input is refused before anything is called or recorded', async () => {
    const m = await mesh()
    upper.register(m.marketplace)
    const err = await fails(m.call('acme.com/text/upper', { text: 5 }))
    expect(err.code).toBe('E_INPUT_INVALID')
    expect(err.message).toContain('acme.com/text/upper@1.0.0 is invalid at /text: must be string')
    const bigint = await fails(m.call('acme.com/text/upper', { text: 'x', n: 1n }))
    expect(bigint.code).toBe('E_INPUT_INVALID')
    expect((await m.lineage.verify()).entries).toBe(0)
  })

  it('error: bad call options are named', async () => {
    const m = await mesh()
    upper.register(m.marketplace)
    for (const [options, field] of [
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ idempotencyKey: 'has space' }, 'idempotencyKey'],
      [{ maxQuantity: 2 }, 'maxQuantity'],
      [{ maxAttempts: 0 }, 'maxAttempts'],
      [{ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }, 'traceparent'],
    ] as const) {
      const err = await fails(m.call('acme.com/text/upper', { text: 'x' }, options as never))
      expect(err.code, field).toBe('E_CALL_OPTIONS_INVALID')
      expect(err.details.field, field).toBe(field)
    }
  })

  it('selects among published HTTP providers, fails over to a healthy one and reports health', async () => {
    const signer = await generateSigner()
    const m = await mesh({
      registries: [memoryRegistry()],
      trust: { owners: { 'acme.com': [signer.id] } },
      strategy: 'lowest-cost',
    })
    const draft: RecordDraft = {
      name: 'acme.com/image/sharpen',
      versions: {
        '1.0.0': {
          descriptor: {
            inputSchema: { type: 'object', required: ['image'] },
            outputSchema: { type: 'object', required: ['image'] },
            maxRisk: 'read-only',
            idempotency: 'idempotent',
            maxDurationMs: 5000,
          },
          providers: [
            { id: 'cheap-broken', endpoint: server.url('/fail'), cost: { unit: 'USDC', baseUnits: '1' } },
            { id: 'good', endpoint: server.url('/ok'), cost: { unit: 'USDC', baseUnits: '9' } },
          ],
        },
      },
    }
    const published = await m.publish(draft, { signer })
    const result = await m.call('acme.com/image/sharpen@^1', { image: 'cat' })
    expect(result.provider.id).toBe('good')
    expect(result.charge.amount).toBe(9n)
    const entries = await m.lineage.entries(result.invocationId)
    expect(entries[0]!.entry).toMatchObject({ provider: 'cheap-broken', recordId: published.id })
    expect((entries[0]!.entry as { reason: string }).reason).toContain('lowest')
    expect(m.health.snapshot(`cheap-broken ${server.url('/fail')}`)).toMatchObject({
      circuit: 'closed',
      inFlight: 0,
      samples: 1,
      successRatio: 0,
    })
    expect(await m.billing.usage({ by: 'provider' })).toEqual([
      { key: 'good', currency: 'USDC', amount: 9n, calls: 1 },
    ])
  })

  it("fails over in the strategy's order, not the record's: the next cheapest after the cheapest fails", async () => {
    const signer = await generateSigner()
    const m = await mesh({
      registries: [memoryRegistry()],
      trust: { owners: { 'acme.com': [signer.id] } },
      strategy: 'lowest-cost',
    })
    const cost = (baseUnits: string) => ({ unit: 'USDC', baseUnits })
    await m.publish(
      {
        name: 'acme.com/image/sharpen',
        versions: {
          '1.0.0': {
            descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', maxDurationMs: 5000 },
            providers: [
              { id: 'dear', endpoint: server.url('/ok'), cost: cost('30') },
              { id: 'cheap-broken', endpoint: server.url('/fail'), cost: cost('10') },
              { id: 'middle', endpoint: server.url('/ok'), cost: cost('20') },
            ],
          },
        },
      },
      { signer },
    )
    const selection = await m.select('acme.com/image/sharpen')
    expect(selection.ranked?.().map((p) => p.id)).toEqual(['cheap-broken', 'middle', 'dear'])
    const result = await m.call('acme.com/image/sharpen', { image: 'cat' })
    expect([result.provider.id, result.charge.amount]).toEqual(['middle', 20n])
    const tried = (await m.lineage.entries(result.invocationId))
      .map((e) => e.entry as { type: string; provider?: string })
      .filter((e) => e.type === 'FUNCTION_INVOKED')
      .map((e) => e.provider)
    expect(tried).toEqual(['cheap-broken', 'middle'])
  })

  it('1,000 concurrent calls against a lease that covers 600: exactly 600 succeed, the balance is exact', async () => {
    const m = await mesh()
    let runs = 0
    governedFunction(
      {
        name: 'acme.com/meter/tick',
        version: '1.0.0',
        idempotency: 'idempotent',
        maxRisk: 'read-only',
        cost: { unit: 'USDC', baseUnits: '1000000000000000000001' },
      },
      async (input: { i: number }) => {
        runs++
        await Promise.resolve()
        return { i: input.i }
      },
    ).register(m.marketplace)
    const cost = 1_000_000_000_000_000_000_001n
    const budget = cost * 600n + cost - 1n
    const lease = await m.leases.grant({
      capabilities: ['acme.com/meter/*'],
      budgets: { USDC: budget },
      ttlMs: 60_000,
    })
    const settled = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => m.call('acme.com/meter/tick', { i }, { lease: lease.id })),
    )
    const ok = settled.filter((s) => s.status === 'fulfilled')
    const refused = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[]
    expect(ok).toHaveLength(600)
    expect(runs).toBe(600)
    expect(new Set(refused.map((r) => (r.reason as { code: string }).code))).toEqual(
      new Set(['E_BUDGET_EXCEEDED']),
    )
    const info = await m.leases.get(lease.id)
    expect(info.balances.USDC).toEqual({
      budget,
      spent: cost * 600n,
      reserved: 0n,
      available: budget - cost * 600n,
    })
    expect(await m.billing.usage({ by: 'function' })).toEqual([
      { key: 'acme.com/meter/tick', currency: 'USDC', amount: cost * 600n, calls: 600 },
    ])
    expect(await m.lineage.verify()).toMatchObject({ ok: true, entries: 1200, completed: 600, charges: 600 })
  })

  it('a call on a lease picks among the providers the lease can still pay for, whatever the strategy', async () => {
    const signer = await generateSigner()
    const m = await mesh({
      registries: [memoryRegistry()],
      trust: { owners: { 'acme.com': [signer.id] } },
      strategy: 'fastest',
    })
    await m.publish(
      {
        name: 'acme.com/image/sharpen',
        versions: {
          '1.0.0': {
            descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', allowedByDefault: true },
            providers: [
              {
                id: 'fast',
                endpoint: server.url('/ok'),
                cost: { unit: 'USDC', baseUnits: '90' },
                avgResponseTimeMs: 5,
              },
              {
                id: 'slow',
                endpoint: server.url('/ok'),
                cost: { unit: 'USDC', baseUnits: '30' },
                avgResponseTimeMs: 500,
              },
            ],
          },
        },
      },
      { signer },
    )
    const context = { level: 'full' } as const
    const lease = await m.leases.grant({
      capabilities: ['acme.com/**'],
      budgets: { USDC: 100n },
      ttlMs: 60_000,
    })
    // A budget of 100 covers the fastest provider.
    expect(
      (await m.call('acme.com/image/sharpen', { image: 'a' }, { lease: lease.id, context })).provider.id,
    ).toBe('fast')
    const small = await m.leases.grant({
      capabilities: ['acme.com/**'],
      budgets: { USDC: 50n },
      ttlMs: 60_000,
    })
    const cheap = await m.call('acme.com/image/sharpen', { image: 'b' }, { lease: small.id, context })
    expect([cheap.provider.id, cheap.charge.amount]).toEqual(['slow', 30n])
    // 20 left covers neither: the call is refused by the lease's budget, naming what it lacks.
    const err = await fails(m.call('acme.com/image/sharpen', { image: 'c' }, { lease: small.id, context }))
    expect(err.code).toBe('E_BUDGET_EXCEEDED')
    expect(err.details).toMatchObject({ leaseId: small.id, available: '20' })
  })

  it('error: a lease refuses names outside its capabilities and expired leases', async () => {
    const m = await mesh()
    upper.register(m.marketplace)
    const lease = await m.leases.grant({
      capabilities: ['other.org/**'],
      budgets: { USDC: 100n },
      ttlMs: 60_000,
    })
    expect((await fails(m.call('acme.com/text/upper', { text: 'a' }, { lease: lease.id }))).code).toBe(
      'E_LEASE_CAPABILITY',
    )
    await m.leases.revoke(lease.id)
    expect((await fails(m.call('acme.com/text/upper', { text: 'a' }, { lease: lease.id }))).code).toBe(
      'E_LEASE_EXPIRED',
    )
    expect((await fails(m.call('acme.com/text/upper', { text: 'a' }, { lease: 'nope' }))).code).toBe(
      'E_LEASE_NOT_FOUND',
    )
    expect((await m.lineage.verify()).entries).toBe(0)
  })

  it('idempotency keys: concurrent duplicates run once; a different input or function is a conflict', async () => {
    const m = await mesh()
    let runs = 0
    const pay = governedFunction(
      { name: 'acme.com/pay/charge', version: '1.0.0', idempotency: 'exactly-once', maxRisk: 'irreversible' },
      async (input: { cents: number }) => {
        runs++
        await Promise.resolve()
        return { paid: input.cents }
      },
    )
    pay.register(m.marketplace)
    upper.register(m.marketplace)
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        m.call('acme.com/pay/charge', { cents: 5 }, { idempotencyKey: 'order-1' }),
      ),
    )
    expect(runs).toBe(1)
    expect(new Set(results.map((r) => r.invocationId)).size).toBe(1)
    const replay = await m.call('acme.com/pay/charge', { cents: 5 }, { idempotencyKey: 'order-1' })
    expect(replay).toMatchObject({
      replayed: true,
      output: { paid: 5 },
      invocationId: results[0]!.invocationId,
    })
    expect(runs).toBe(1)
    const input = await fails(m.call('acme.com/pay/charge', { cents: 6 }, { idempotencyKey: 'order-1' }))
    expect(input.code).toBe('E_IDEMPOTENCY_CONFLICT')
    expect(input.details.field).toBe('input')
    const fn = await fails(m.call('acme.com/text/upper', { text: 'x' }, { idempotencyKey: 'order-1' }))
    expect(fn.details.field).toBe('function')
    const other = await m.call(
      'acme.com/pay/charge',
      { cents: 6 },
      { idempotencyKey: 'order-1', principal: 'bob' },
    )
    expect(other.replayed).toBe(false)
    expect(runs).toBe(2)
    expect((await fails(m.call('acme.com/pay/charge', { cents: 5 }))).code).toBe('E_IDEMPOTENCY_KEY_REQUIRED')
  })

  it('a local handler gets the deadline, key and trace, and can bill a quantity', async () => {
    const clock = fakeClock()
    const m = await mesh({ clock })
    let seen: Record<string, unknown> = {}
    governedFunction(
      {
        name: 'acme.com/meter/bytes',
        version: '2.1.0',
        idempotency: 'at-least-once',
        maxRisk: 'mutation',
        maxDurationMs: 4000,
        cost: { unit: 'EUR', baseUnits: '3' },
      },
      (input: { n: number }, ctx) => {
        seen = {
          deadline: ctx.deadline,
          key: ctx.idempotencyKey,
          trace: ctx.traceparent,
          principal: ctx.principal,
          aborted: ctx.signal.aborted,
        }
        ctx.reportQuantity(input.n)
        return { ok: true }
      },
    ).register(m.marketplace)
    const started = clock.now()
    const result = await m.call('acme.com/meter/bytes', { n: 4 }, { idempotencyKey: 'b-1', maxQuantity: 4n })
    expect(result.charge).toMatchObject({ currency: 'EUR', amount: 12n, quantity: 4n })
    expect(seen.key).toBe('b-1')
    expect(seen.aborted).toBe(false)
    expect(seen.trace).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    expect(seen.deadline).toBe(started + 4000)
  })

  it('error: a local handler that throws fails the call without a charge; a hanging one hits the deadline', async () => {
    const clock = fakeClock()
    const m = await mesh({ clock })
    governedFunction(
      { name: 'acme.com/x/boom', version: '1.0.0', idempotency: 'at-least-once', maxRisk: 'mutation' },
      () => {
        throw new Error('kaboom')
      },
    ).register(m.marketplace)
    governedFunction(
      { name: 'acme.com/x/hang', version: '1.0.0', idempotency: 'idempotent', maxRisk: 'read-only' },
      () => new Promise(() => {}),
    ).register(m.marketplace)
    const err = await fails(m.call('acme.com/x/boom', {}))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.message).toContain('kaboom')
    const hanging = fails(m.call('acme.com/x/hang', {}, { timeoutMs: 100 }))
    await until(() => clock.pending === 1, { what: 'the call deadline' })
    await clock.advanceAsync(100)
    const hang = await hanging
    expect(hang.code).toBe('E_DEADLINE_EXCEEDED')
    expect(await m.billing.usage({ by: 'function' })).toEqual([])
    expect(await m.lineage.verify()).toMatchObject({ ok: true, completed: 0 })
  })
})

describe('mesh.dispatch', () => {
  it('invokes every function registered for the trigger kind, each with its own lineage', async () => {
    const m = await mesh()
    const calls: string[] = []
    for (const [name, fail] of [
      ['acme.com/orders/notify', false],
      ['acme.com/orders/audit', true],
    ] as const) {
      governedFunction(
        {
          name,
          version: '1.0.0',
          idempotency: 'idempotent',
          maxRisk: 'read-only',
          triggerEvents: ['order.created'],
        },
        (event: { id: string }) => {
          calls.push(`${name}:${event.id}`)
          if (fail) throw new Error('audit store down')
          return { seen: event.id }
        },
      ).register(m.marketplace)
    }
    upper.register(m.marketplace)
    const results = await m.dispatch('order.created', { id: 'o-1' }, { maxAttempts: 1 })
    expect(results.map((r) => `${r.name}:${r.ok}`).sort()).toEqual([
      'acme.com/orders/audit:false',
      'acme.com/orders/notify:true',
    ])
    const ok = results.find((r) => r.ok)!
    if (!ok.ok) throw new Error('unreachable')
    const entries = await m.lineage.entries(ok.result.invocationId)
    expect(entries[0]!.entry).toMatchObject({ trigger: { kind: 'order.created' } })
    expect(calls.sort()).toEqual(['acme.com/orders/audit:o-1', 'acme.com/orders/notify:o-1'])
    expect(await m.dispatch('nobody.listens', {})).toEqual([])
    expect((await fails(m.dispatch('bad kind!', {}))).code).toBe('E_CALL_OPTIONS_INVALID')
  })
})
