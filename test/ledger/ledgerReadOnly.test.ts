import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { verifyInclusion } from '../../src/ledger/checkpoint.js'
import { contentId } from '../../src/ledger/entry.js'
import { openLedger } from '../../src/ledger/Ledger.js'
import { baseEntry, ledgerFixture, oneCall } from '../_helpers/ledgers.js'

const fixture = ledgerFixture('fmesh-ledger-ro-')

const reader = (path: string) => fixture.open(path, { readOnly: true })

describe('ledger opened read-only', () => {
  it('reads beside the writer, without waiting, and sees each commit as it lands', async () => {
    const path = fixture.tmpPath()
    const writer = await fixture.open(path)
    await oneCall(writer, 1, 'ok', 7n)
    const ro = await reader(path)
    expect(ro.readOnly).toBe(true)
    expect(ro.keyId).toBe(writer.keyId)
    expect(await ro.usage({ by: 'provider' })).toEqual([
      { key: 'p1', currency: 'USDC', amount: 7n, calls: 1 },
    ])
    // Written after the reader opened: its next read sees it.
    await oneCall(writer, 2, 'fail')
    expect((await ro.recent()).map((c) => [c.invocation, c.outcome])).toEqual([
      ['inv-2', 'failed'],
      ['inv-1', 'completed'],
    ])
    expect((await ro.lineage('inv-2')).map((e) => e.entry.type)).toEqual([
      'FUNCTION_INVOKED',
      'FUNCTION_FAILED',
    ])
    expect(await ro.verify()).toMatchObject({ ok: true, entries: 4, completed: 1, charges: 1 })
    // Readers do not count as writers: a second writer is still refused.
    await expect(openLedger({ path })).rejects.toMatchObject({ code: 'E_LEDGER_LOCKED' })
  })

  it('proves an entry against a stored checkpoint; one no checkpoint covers needs the writer', async () => {
    const path = fixture.tmpPath()
    const writer = await fixture.open(path)
    const first = await oneCall(writer, 1)
    await writer.checkpoint()
    const second = await oneCall(writer, 2)
    const ro = await reader(path)
    const proof = await ro.proof(first.id)
    expect(verifyInclusion(proof, { keyId: writer.keyId })).toBe(true)
    await expect(ro.proof(second.id)).rejects.toMatchObject({
      code: 'E_LEDGER_READ_ONLY',
      details: { path, action: 'sign a checkpoint' },
    })
  })

  it('error: every write is refused with E_LEDGER_READ_ONLY and the file is left as it was', async () => {
    const path = fixture.tmpPath()
    const writer = await fixture.open(path)
    await oneCall(writer, 1)
    await fixture.close(writer)
    const before = readFileSync(path)
    const ro = await reader(path)
    const fields = {
      ...baseEntry('inv-x'),
      endpoint: 'local:acme.com/text/upper@1.0.0',
      recordId: 'local:acme.com/text/upper@1.0.0',
      reason: 'only provider',
      inputCid: contentId({ x: 1 }),
      idempotencyClass: 'idempotent' as const,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    }
    const readOnly = { code: 'E_LEDGER_READ_ONLY' }
    await expect(ro.invoked(fields)).rejects.toMatchObject(readOnly)
    expect(() => ro.invokedDeferred(fields)).toThrow(expect.objectContaining(readOnly))
    await expect(
      ro.leases.grant({ capabilities: ['acme.com/**'], budgets: {}, ttlMs: 1000 }),
    ).rejects.toMatchObject(readOnly)
    await expect(ro.leases.revoke('nope')).rejects.toMatchObject(readOnly)
    expect(ro.size).toBe(2)
    await ro.close()
    expect(readFileSync(path).equals(before)).toBe(true)
    const again = await fixture.open(path)
    expect(await again.verify()).toMatchObject({ ok: true, entries: 2 })
  })

  it('error: a ledger that does not exist is E_LEDGER_MISSING, and nothing is created', async () => {
    const path = fixture.tmpPath()
    await expect(openLedger({ path, readOnly: true })).rejects.toMatchObject({
      code: 'E_LEDGER_MISSING',
      details: { path },
    })
    expect(existsSync(dirname(path))).toBe(false)
    const dir = fixture.tmpDir()
    await expect(openLedger({ path: `${dir}/ledger.sqlite`, readOnly: true })).rejects.toMatchObject({
      code: 'E_LEDGER_MISSING',
    })
    expect(readdirSync(dir)).toEqual([])
  })

  it('error: a readOnly that is not a boolean is refused before the disk is touched', async () => {
    const path = fixture.tmpPath()
    await expect(openLedger({ path, readOnly: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'E_LEDGER_OPEN',
      message: expect.stringContaining('`readOnly` must be true or false'),
    })
    expect(existsSync(dirname(path))).toBe(false)
  })
})
