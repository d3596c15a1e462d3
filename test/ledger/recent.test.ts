import { describe, expect, it } from 'vitest'
import { isMeshError } from '../../src/errors/base.js'
import { contentId } from '../../src/ledger/entry.js'
import { lineageFacade } from '../../src/ledger/lineageFacade.js'
import { baseEntry, ledgerFixture, oneCall } from '../_helpers/ledgers.js'

const fixture = ledgerFixture('fmesh-recent-')

const invokedFields = (invocation: string, attempt: number, provider = 'p1', principal = 'alice') => ({
  ...baseEntry(invocation, attempt),
  provider,
  principal,
  endpoint: 'http://127.0.0.1:1/x',
  recordId: 'bafy-record',
  reason: 'only provider',
  inputCid: contentId({ invocation }),
  idempotencyClass: 'idempotent',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
})

describe('mesh.lineage.recent', () => {
  it('lists calls newest first with outcome, attempts, charge, error and entries; filters combine', async () => {
    let now = 1_000
    const ledger = await fixture.open(fixture.tmpPath(), { clock: { now: () => now } })
    const lineage = lineageFacade(async () => ledger)
    await oneCall(ledger, 1) // completed, 10 USDC
    now = 2_000
    await oneCall(ledger, 2, 'fail')
    // A failover: attempt 1 fails on p1, attempt 2 completes on p2, interleaved with another call.
    now = 3_000
    const a1 = await ledger.invoked(invokedFields('inv-3', 1))
    const other = await ledger.invoked(invokedFields('inv-4', 1, 'p1', 'bob'))
    now = 3_010
    await ledger.failed(a1, {
      ...baseEntry('inv-3', 1),
      error: { code: 'E_PROVIDER_FAILED', message: 'boom' },
      sent: true,
      durationMs: 10,
    })
    const a2 = await ledger.invoked(invokedFields('inv-3', 2, 'p2'))
    now = 3_050
    await ledger.completed(
      a2,
      { ...baseEntry('inv-3', 2), provider: 'p2', outputCid: contentId({}), durationMs: 40, quantity: '1' },
      { currency: 'USDC', amount: 7n, quantity: 1n },
    )

    const all = await lineage.recent()
    expect(all.map((c) => [c.invocation, c.outcome, c.attempts])).toEqual([
      ['inv-3', 'completed', 2],
      ['inv-4', 'in-flight', 1],
      ['inv-2', 'failed', 1],
      ['inv-1', 'completed', 1],
    ])
    expect(all[0]).toMatchObject({
      function: 'acme.com/text/upper',
      version: '1.0.0',
      provider: 'p2',
      principal: 'alice',
      startedAt: 3_000,
      endedAt: 3_050,
      durationMs: 50,
      charge: { amount: '7', currency: 'USDC' },
      error: null,
    })
    expect(all[0]!.entries).toEqual((await ledger.lineage('inv-3')).map((e) => e.id))
    expect(all[1]).toMatchObject({ outcome: 'in-flight', endedAt: null, durationMs: null, charge: null })
    expect(all[1]!.entries).toEqual([other.id])
    expect(all[2]).toMatchObject({ charge: null, error: { code: 'E_PROVIDER_FAILED', message: 'boom' } })

    expect((await lineage.recent({ failed: true })).map((c) => c.invocation)).toEqual(['inv-2'])
    expect((await lineage.recent({ principal: 'bob' })).map((c) => c.invocation)).toEqual(['inv-4'])
    expect((await lineage.recent({ function: 'acme.com/none' })).length).toBe(0)
    const two = await lineage.recent({ limit: 2 })
    expect(two.map((c) => [c.invocation, c.attempts, c.entries.length])).toEqual([
      ['inv-3', 2, 4],
      ['inv-4', 1, 1],
    ])
  })

  it('refuses bad options with E_LEDGER_QUERY naming the field', async () => {
    const ledger = await fixture.open(fixture.tmpPath())
    for (const [options, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ failed: 'yes' }, 'failed'],
      [{ function: '' }, 'function'],
    ] as const) {
      const err = await ledger.recent(options as never).catch((e: unknown) => e)
      expect(isMeshError(err, 'E_LEDGER_QUERY')).toBe(true)
      expect((err as { details: { field: string } }).details.field).toBe(field)
    }
    expect(await ledger.recent()).toEqual([])
  })
})
