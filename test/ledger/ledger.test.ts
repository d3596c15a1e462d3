import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { isMeshError } from '../../src/errors/base.js'
import { verifyInclusion } from '../../src/ledger/checkpoint.js'
import { contentId } from '../../src/ledger/entry.js'
import { openLedger } from '../../src/ledger/Ledger.js'
import { baseEntry, ledgerFixture, oneCall } from '../_helpers/ledgers.js'

const fixture = ledgerFixture('fmesh-ledger-')
const tmpPath = fixture.tmpPath
const base = baseEntry

function open(path = tmpPath(), extra: { checkpointEvery?: number; now?: () => number } = {}) {
  return fixture.open(path, {
    ...(extra.checkpointEvery === undefined ? {} : { checkpointEvery: extra.checkpointEvery }),
    ...(extra.now === undefined ? {} : { clock: { now: extra.now } }),
  })
}

describe('ledger', () => {
  it('writes INVOKED then COMPLETED with one charge, linked and verifiable', async () => {
    const ledger = await open()
    const completed = await oneCall(ledger, 1)
    const failed = await oneCall(ledger, 2, 'fail')
    const entries = await ledger.lineage('inv-1')
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[1]!.entry.prev).toBe(entries[0]!.id)
    expect(entries[1]!.id).toBe(completed.id)
    // Strict: a call without a lease has no lease key in its charge, not `lease: undefined`.
    expect(ledger.chargeOf(completed.id)).toStrictEqual({
      entry: completed.id,
      currency: 'USDC',
      amount: 10n,
      quantity: 1n,
    })
    expect(ledger.chargeOf(failed.id)).toBeUndefined()
    const report = await ledger.verify()
    expect(report).toMatchObject({ ok: true, entries: 4, completed: 1, charges: 1 })
  })

  it('group-commits concurrent writes and keeps them in log order', async () => {
    const ledger = await open()
    await Promise.all(Array.from({ length: 300 }, (_, i) => oneCall(ledger, i, i % 3 === 0 ? 'fail' : 'ok')))
    const report = await ledger.verify()
    expect(report.ok).toBe(true)
    expect(report.entries).toBe(600)
    expect(report.completed).toBe(200)
  })

  it('proves inclusion of an entry against a signed checkpoint, checkable offline', async () => {
    const ledger = await open(undefined, { checkpointEvery: 8 })
    const ids = []
    for (let i = 0; i < 13; i++) ids.push((await oneCall(ledger, i)).id)
    for (const id of ids) {
      const proof = await ledger.proof(id)
      expect(verifyInclusion(proof, { keyId: ledger.keyId })).toBe(true)
      expect(proof.checkpoint.treeSize).toBeGreaterThan(proof.leafIndex)
      expect(verifyInclusion({ ...proof, entry: proof.entry.replace('"p1"', '"p2"') })).toBe(false)
      expect(
        verifyInclusion({ ...proof, leafIndex: (proof.leafIndex + 1) % proof.checkpoint.treeSize }),
      ).toBe(false)
      expect(verifyInclusion(proof, { keyId: 'did:key:z6MkOther' })).toBe(false)
    }
    const proof = await ledger.proof(ids[0]!)
    expect(verifyInclusion({ ...proof, checkpoint: { ...proof.checkpoint, root: '00'.repeat(32) } })).toBe(
      false,
    )
    const report = await ledger.verify()
    expect(report.ok).toBe(true)
    expect(report.checkpoints).toBeGreaterThanOrEqual(3)
    expect(report.keys).toEqual([ledger.keyId])
  })

  it('error: proof of an unknown entry names it', async () => {
    const ledger = await open()
    await expect(ledger.proof('bagaaieranope')).rejects.toMatchObject({ code: 'E_LINEAGE_ENTRY_NOT_FOUND' })
  })

  it('error: changing any byte of a stored entry fails verify and names that entry', async () => {
    const path = tmpPath()
    let ledger = await open(path, { checkpointEvery: 4 })
    for (let i = 0; i < 5; i++) await oneCall(ledger, i)
    await ledger.close()
    const db = new Database(path)
    const target = db.prepare('SELECT seq, id, body FROM entries WHERE seq = 5').get() as {
      seq: number
      id: string
      body: Buffer
    }
    const positions = target.body.length
    db.close()
    for (let pos = 0; pos < positions; pos++) {
      const tampered = Buffer.from(target.body)
      tampered[pos] = tampered[pos]! ^ (pos % 2 === 0 ? 0x01 : 0x20)
      const w = new Database(path)
      w.prepare('UPDATE entries SET body = ? WHERE seq = ?').run(tampered, 5)
      w.close()
      ledger = await open(path)
      const report = await ledger.verify()
      ledger.closeNow()
      expect(report.ok, `byte ${pos}`).toBe(false)
      expect(report.error?.seq, `byte ${pos}`).toBe(5)
      expect(report.error?.entryId).toBe(target.id)
      expect(report.error?.code).toBe('E_LINEAGE_TAMPERED')
      expect(report.error?.message).toContain(`entry 5 (${target.id})`)
    }
    const w = new Database(path)
    w.prepare('UPDATE entries SET body = ? WHERE seq = ?').run(target.body, 5)
    w.close()
    ledger = await open(path)
    expect((await ledger.verify()).ok).toBe(true)
  })

  it('error: a removed entry, a changed, dropped, renumbered or orphan charge or a forged checkpoint fail verify', async () => {
    const path = tmpPath()
    const ledger = await open(path, { checkpointEvery: 4 })
    for (let i = 0; i < 6; i++) await oneCall(ledger, i)
    await ledger.close()
    const cases: [string, (db: Database.Database) => void, string][] = [
      ['removed', (db) => db.prepare('DELETE FROM entries WHERE seq = 3').run(), 'missing'],
      ['truncated', (db) => db.prepare('DELETE FROM entries WHERE seq >= 10').run(), 'entries were removed'],
      [
        'charge changed',
        (db) => db.prepare("UPDATE entries SET amount = '11' WHERE charge_no = 1").run(),
        'differs from what the entry states',
      ],
      [
        'charge dropped',
        (db) =>
          db
            .prepare(
              'UPDATE entries SET charge_no = NULL, amount = NULL, currency = NULL WHERE charge_no = 2',
            )
            .run(),
        'has no charge',
      ],
      [
        'charge renumbered',
        (db) => db.prepare('UPDATE entries SET charge_no = 7 WHERE charge_no = 2').run(),
        'it is charge 2 of the log',
      ],
      [
        'charge moved to another principal',
        (db) => db.prepare("UPDATE entries SET principal = 'mallory' WHERE charge_no = 1").run(),
        'disagree with the entry',
      ],
      [
        'orphan charge',
        (db) =>
          db
            .prepare(
              "UPDATE entries SET charge_no = 9, currency = 'USDC', amount = '5' WHERE type = 'FUNCTION_INVOKED' AND seq = 2",
            )
            .run(),
        'no FUNCTION_COMPLETED entry',
      ],
      [
        'forged checkpoint',
        (db) => db.prepare('UPDATE checkpoints SET root = zeroblob(32) WHERE tree_size = 4').run(),
        'differs from the signed root',
      ],
      [
        'bad signature',
        (db) => db.prepare('UPDATE checkpoints SET at = at + 1 WHERE tree_size = 4').run(),
        'signature',
      ],
    ]
    for (const [label, tamper, reason] of cases) {
      const copy = tmpPath()
      mkdirSync(dirname(copy), { recursive: true })
      const src = new Database(path)
      await src.backup(copy)
      src.close()
      copyFileSync(`${path}.key`, `${copy}.key`)
      const db = new Database(copy)
      tamper(db)
      db.close()
      const reopened = await open(copy)
      const report = await reopened.verify()
      expect(report.ok, label).toBe(false)
      expect(report.error?.message, label).toContain(reason)
    }
  })

  it('closes calls a crash left open as FUNCTION_FAILED on reopen, uncharged', async () => {
    const path = tmpPath()
    const ledger = await open(path)
    await oneCall(ledger, 1)
    const inv = await ledger.invoked(
      {
        ...base('inv-crash'),
        endpoint: 'local:x',
        recordId: 'local:x',
        reason: 'r',
        inputCid: contentId(1),
        idempotencyClass: 'exactly-once',
        idempotencyKey: 'k1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      {
        principal: 'alice',
        key: 'k1',
        function: 'acme.com/text/upper',
        inputCid: contentId(1),
        invocation: 'inv-crash',
      },
    )
    expect(ledger.lookupKey('alice', 'k1')).toMatchObject({ state: 'pending', invocation: 'inv-crash' })
    ledger.closeNow() // as if killed: no terminal entry
    const reopened = await open(path)
    const entries = await reopened.lineage('inv-crash')
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_FAILED'])
    expect(entries[1]!.entry).toMatchObject({
      invoked: inv.id,
      recovered: true,
      error: { code: 'E_INTERRUPTED' },
    })
    expect(reopened.lookupKey('alice', 'k1')).toMatchObject({
      state: 'failed',
      sent: true,
      error: { code: 'E_INTERRUPTED' },
    })
    expect((await reopened.verify()).ok).toBe(true)
  })

  it('stores the result of an idempotency key with its COMPLETED entry', async () => {
    const ledger = await open()
    const claim = {
      principal: 'bob',
      key: 'order-1',
      function: 'acme.com/text/upper',
      inputCid: contentId({ a: 1 }),
      invocation: 'inv-k',
    }
    const inv = await ledger.invoked(
      {
        ...base('inv-k'),
        endpoint: 'local:x',
        recordId: 'local:x',
        reason: 'r',
        inputCid: claim.inputCid,
        idempotencyClass: 'exactly-once',
        idempotencyKey: 'order-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      claim,
    )
    const { entry } = await ledger.completed(
      inv,
      { ...base('inv-k'), outputCid: contentId({ ok: ',"output":' }), durationMs: 1, quantity: '1' },
      { currency: null, amount: 0n, quantity: 1n },
      { principal: 'bob', key: 'order-1', output: new TextEncoder().encode('{"ok":",\\"output\\":"}') },
    )
    expect(ledger.lookupKey('bob', 'order-1')).toEqual({
      state: 'completed',
      function: 'acme.com/text/upper',
      inputCid: claim.inputCid,
      invocation: 'inv-k',
      completed: entry.id,
      output: '{"ok":",\\"output\\":"}',
    })
    expect(ledger.lookupKey('alice', 'order-1')).toBeUndefined()
  })

  it('sums usage exactly per provider, function and principal since a time', async () => {
    let now = 1_000
    const ledger = await open(undefined, { now: () => now })
    await oneCall(ledger, 1, 'ok', 2n ** 70n)
    now = 2_000
    await oneCall(ledger, 2, 'ok', 5n)
    await oneCall(ledger, 3, 'fail')
    expect(await ledger.usage({ by: 'provider' })).toEqual([
      { key: 'p1', currency: 'USDC', amount: 2n ** 70n + 5n, calls: 2 },
    ])
    expect(await ledger.usage({ by: 'principal', since: 1_500 })).toEqual([
      { key: 'alice', currency: 'USDC', amount: 5n, calls: 1 },
    ])
    expect(await ledger.usage({ by: 'function', since: new Date(3_000) })).toEqual([])
    await expect(ledger.usage({ by: 'nope' as 'provider' })).rejects.toMatchObject({ code: 'E_LEDGER_QUERY' })
    await expect(ledger.usage({ by: 'provider', since: Number.NaN })).rejects.toMatchObject({
      code: 'E_LEDGER_QUERY',
    })
  })

  it('error: a second mesh cannot open a ledger file that is in use', async () => {
    const path = tmpPath()
    await open(path)
    const err = await openLedger({ path }).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_LEDGER_LOCKED')).toBe(true)
    expect((err as Error).message).toContain(
      'give this one its own data dir (`dataDir` in fmesh.json; `ledger.path` in createMesh)',
    )
  })

  it('waitForLockMs queues an open behind the ledger holder, saying so once, and opens when it closes', async () => {
    const path = tmpPath()
    const holder = await openLedger({ path })
    const waits: string[] = []
    let told!: () => void
    const toldOnce = new Promise<void>((resolve) => {
      told = resolve
    })
    const second = openLedger({
      path,
      waitForLockMs: 60_000,
      onLockWait: (p) => {
        waits.push(p)
        told()
      },
    })
    await toldOnce
    await holder.close()
    const ledger = await second
    await oneCall(ledger, 1)
    expect(waits).toEqual([path])
    await ledger.close()
    await expect(openLedger({ path, waitForLockMs: -1 })).rejects.toMatchObject({ code: 'E_LEDGER_OPEN' })
  })

  it('error: a ledger written with another schema is refused, unchanged, naming both versions', async () => {
    const path = tmpPath()
    const ledger = await open(path)
    await oneCall(ledger, 1)
    await ledger.close()
    const db = new Database(path)
    db.prepare("UPDATE meta SET v = '2' WHERE k = 'schema'").run()
    db.close()
    const err = await openLedger({ path }).catch((e: unknown) => e)
    expect(isMeshError(err) && err.code).toBe('E_LEDGER_SCHEMA')
    expect((err as Error).message).toContain('schema 2; this version reads schema 3')
    const after = new Database(path, { readonly: true })
    expect(after.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get()).toBe('2')
    expect(after.prepare('SELECT count(*) FROM entries').pluck().get()).toBe(2)
    after.close()
  })

  it('error: writes after close are refused', async () => {
    const ledger = await open()
    await ledger.close()
    await expect(oneCall(ledger, 1)).rejects.toMatchObject({ code: 'E_LEDGER_CLOSED' })
  })

  it('keeps the log across reopen: the tree continues and verifies', async () => {
    const path = tmpPath()
    const a = await open(path, { checkpointEvery: 3 })
    for (let i = 0; i < 4; i++) await oneCall(a, i)
    const root = a.root
    await a.close()
    const b = await open(path, { checkpointEvery: 3 })
    expect(b.size).toBe(8)
    expect(b.root).toBe(root)
    await oneCall(b, 9)
    expect((await b.verify()).ok).toBe(true)
  })
})

describe('leases', () => {
  it('reserves, settles and releases in integer base units', async () => {
    const ledger = await open()
    const lease = await ledger.leases.grant({
      capabilities: ['acme.com/**'],
      budgets: { USDC: 100n, EUR: '7' },
      ttlMs: 60_000,
    })
    const book = ledger.leaseBook
    const r1 = book.reserve(lease.id, 'acme.com/a', 'USDC', 60n)
    expect(() => book.reserve(lease.id, 'acme.com/a', 'USDC', 41n)).toThrow(
      /cannot cover 41 USDC \(available 40\)/,
    )
    book.release(r1)
    const r2 = book.reserve(lease.id, 'acme.com/a', 'USDC', 100n)
    book.settle(r2, 90n)?.()
    expect(ledger.leases.get(lease.id).balances.USDC).toEqual({
      budget: 100n,
      spent: 90n,
      reserved: 0n,
      available: 10n,
    })
    expect(ledger.leases.get(lease.id).balances.EUR?.budget).toBe(7n)
  })

  it('error: refuses an expired or revoked lease, a name outside its capabilities, an unknown currency', async () => {
    let now = 0
    const ledger = await open(undefined, { now: () => now })
    const lease = await ledger.leases.grant({
      capabilities: ['acme.com/image/*'],
      budgets: { USDC: 10n },
      expiresAt: 1000,
    })
    expect(() => ledger.leaseBook.reserve(lease.id, 'other.org/x', 'USDC', 1n)).toThrow(
      expect.objectContaining({ code: 'E_LEASE_CAPABILITY' }),
    )
    expect(() => ledger.leaseBook.reserve(lease.id, 'acme.com/image/sharpen', 'EUR', 1n)).toThrow(
      expect.objectContaining({ code: 'E_BUDGET_EXCEEDED' }),
    )
    now = 1000
    expect(() => ledger.leaseBook.reserve(lease.id, 'acme.com/image/sharpen', 'USDC', 1n)).toThrow(
      expect.objectContaining({ code: 'E_LEASE_EXPIRED' }),
    )
    now = 0
    await ledger.leases.revoke(lease.id)
    expect(() => ledger.leaseBook.reserve(lease.id, 'acme.com/image/sharpen', 'USDC', 1n)).toThrow(
      /was revoked/,
    )
    expect(() => ledger.leases.get('nope')).toThrow(expect.objectContaining({ code: 'E_LEASE_NOT_FOUND' }))
  })

  it('error: rejects malformed grants with the field named', async () => {
    const ledger = await open()
    const bad: [unknown, string][] = [
      [{ capabilities: [], budgets: {}, ttlMs: 1 }, 'capabilities'],
      [{ capabilities: ['bad glob!'], budgets: {}, ttlMs: 1 }, 'capabilities[0]'],
      [{ capabilities: ['a.com/*'], budgets: { USDC: 1.5 }, ttlMs: 1 }, 'budgets.USDC'],
      [{ capabilities: ['a.com/*'], budgets: { USDC: -1n }, ttlMs: 1 }, 'budgets.USDC'],
      [{ capabilities: ['a.com/*'], budgets: { 'U SD': 1n }, ttlMs: 1 }, 'budgets.U SD'],
      [{ capabilities: ['a.com/*'], budgets: {} }, 'expiresAt'],
      [{ capabilities: ['a.com/*'], budgets: {}, expiresAt: 1 }, 'expiresAt'],
      [{ capabilities: ['a.com/*'], budgets: {}, ttlMs: -5 }, 'ttlMs'],
    ]
    for (const [grant, field] of bad) {
      await expect(ledger.leases.grant(grant as never), field).rejects.toMatchObject({
        code: 'E_LEASE_INVALID',
        details: expect.objectContaining({ field }),
      })
    }
  })

  it('keeps spent totals across reopen', async () => {
    const path = tmpPath()
    const a = await open(path)
    const lease = await a.leases.grant({ capabilities: ['**'], budgets: { USDC: 50n }, ttlMs: 60_000 })
    const inv = await a.invoked({
      ...base('inv-l'),
      endpoint: 'local:x',
      recordId: 'local:x',
      reason: 'r',
      inputCid: contentId(1),
      idempotencyClass: 'idempotent',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      lease: lease.id,
    })
    const reservation = a.leaseBook.reserve(lease.id, 'acme.com/text/upper', 'USDC', 20n)
    await a.completed(
      inv,
      { ...base('inv-l'), outputCid: contentId(2), durationMs: 1, quantity: '1' },
      { currency: 'USDC', amount: 20n, quantity: 1n, reservation },
    )
    await a.close()
    const b = await open(path)
    expect(b.leases.get(lease.id).balances.USDC).toEqual({
      budget: 50n,
      spent: 20n,
      reserved: 0n,
      available: 30n,
    })
    expect((await b.usage({ by: 'function' }))[0]).toMatchObject({ amount: 20n })
  })
})
