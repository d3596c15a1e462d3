import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ID_EPOCH_BITS, ID_INDEX_LAG } from '../../src/ledger/_sql.js'
import { verifyInclusion } from '../../src/ledger/checkpoint.js'
import { contentId } from '../../src/ledger/entry.js'
import type { Ledger } from '../../src/ledger/Ledger.js'
import { inclusionPath } from '../../src/ledger/merkle.js'
import { baseEntry, ledgerFixture } from '../_helpers/ledgers.js'

const { tmpDir, open, close } = ledgerFixture('fmesh-proof-')

const base = (invocation: string) => baseEntry(invocation)

/** `count` calls, all in flight at once, or one after another (entry k's COMPLETED then sits at seq 2k+1). */
async function calls(ledger: Ledger, from: number, count: number, sequential = false): Promise<string[]> {
  if (sequential) {
    const ids: string[] = []
    for (let k = 0; k < count; k++) ids.push(...(await calls(ledger, from + k, 1)))
    return ids
  }
  return Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const n = from + k
      const inv = await ledger.invoked({
        ...base(`inv-${n}`),
        endpoint: 'local:x',
        recordId: 'local:x',
        reason: 'r',
        inputCid: contentId({ n }),
        idempotencyClass: 'idempotent',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      })
      const { entry } = await ledger.completed(
        inv,
        { ...base(`inv-${n}`), outputCid: contentId({ out: n }), durationMs: 1, quantity: '1' },
        { currency: 'USDC', amount: 1n, quantity: 1n },
      )
      return entry.id
    }),
  )
}

async function fresh(checkpointEvery: number) {
  const path = join(tmpDir(), 'ledger.sqlite')
  return { path, ledger: await open(path, { checkpointEvery }) }
}

function leaves(path: string, size: number): Uint8Array[] {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    return (
      db.prepare('SELECT leaf FROM entries WHERE seq < ? ORDER BY seq').pluck().all(size) as Buffer[]
    ).map((b) => new Uint8Array(b))
  } finally {
    db.close()
  }
}

describe('inclusion proofs from stored Merkle nodes', () => {
  it('give the RFC 9162 path of every kind of position, before and after the id index refresh, and after reopen', async () => {
    const { path, ledger } = await fresh(500)
    const ids = await calls(ledger, 0, ID_INDEX_LAG / 2 + 300)
    await ledger.sync()
    const picks = [0, 1, 7, 8, 15, 16, 1000, 2047, 2048, ids.length - 200, ids.length - 1]
    const proofs = []
    for (const i of picks) {
      const proof = await ledger.proof(ids[i]!)
      expect(verifyInclusion(proof, { keyId: ledger.keyId }), `entry ${i}`).toBe(true)
      proofs.push(proof)
    }
    await close(ledger)
    for (const proof of proofs) {
      const all = leaves(path, proof.checkpoint.treeSize)
      expect(proof.path, `leaf ${proof.leafIndex}`).toEqual(
        inclusionPath(all, proof.leafIndex).map((h) => Buffer.from(h).toString('hex')),
      )
    }
    const reopened = await open(path, { checkpointEvery: 500 })
    await calls(reopened, 100_000, 3)
    for (const i of [5, ids.length - 1]) {
      const proof = await reopened.proof(ids[i]!)
      expect(verifyInclusion(proof, { keyId: reopened.keyId })).toBe(true)
    }
    expect((await reopened.verify()).ok).toBe(true)
  }, 60_000)

  it('lineage and usage find entries and charges both in the bulk indexes and after them', async () => {
    let now = 1_000
    const dir = tmpDir()
    const ledger = await open(join(dir, 'ledger.sqlite'), { clock: { now: () => now } })
    const half = ID_INDEX_LAG / 2
    await calls(ledger, 0, half)
    now = 2_000
    await calls(ledger, half, half + 50)
    // Bulk refreshes indexed the earlier entries; the latest are found by scanning after them.
    for (const n of [0, half - 1, half, 2 * half + 49]) {
      const entries = await ledger.lineage(`inv-${n}`)
      expect(
        entries.map((e) => e.entry.type),
        `inv-${n}`,
      ).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    }
    expect(await ledger.usage({ by: 'function' })).toEqual([
      { key: 'acme.com/text/upper', currency: 'USDC', amount: BigInt(2 * half + 50), calls: 2 * half + 50 },
    ])
    expect(await ledger.usage({ by: 'function', since: 1_500 })).toEqual([
      { key: 'acme.com/text/upper', currency: 'USDC', amount: BigInt(half + 50), calls: half + 50 },
    ])
    expect(await ledger.usage({ by: 'function', until: 1_500 })).toEqual([
      { key: 'acme.com/text/upper', currency: 'USDC', amount: BigInt(half), calls: half },
    ])
    expect((await ledger.verify()).ok).toBe(true)
    // The compact usage index is checked against the charges it copies.
    const path = join(dir, 'ledger.sqlite')
    await close(ledger)
    for (const [label, sql, reason] of [
      [
        'changed',
        "UPDATE charge_index SET amount = '99' WHERE entry = (SELECT min(entry) FROM charge_index)",
        'differs from the charge of that entry',
      ],
      [
        'removed',
        'DELETE FROM charge_index WHERE entry = (SELECT max(entry) FROM charge_index)',
        'rows were removed',
      ],
    ] as const) {
      const copy = join(dir, `tampered-${label}.sqlite`)
      const src = new Database(path)
      await src.backup(copy)
      src.close()
      copyFileSync(`${path}.key`, `${copy}.key`)
      const db = new Database(copy)
      expect(db.prepare(sql).run().changes, label).toBe(1)
      db.close()
      const reopened = await open(copy)
      const report = await reopened.verify()
      expect(report.ok, label).toBe(false)
      expect(report.error?.message, label).toContain(reason)
    }
  }, 60_000)

  it('finds entries by id in every epoch of the id index, and after it', async () => {
    const { path, ledger } = await fresh(4096)
    const perEpoch = 2 ** ID_EPOCH_BITS
    // Calls of two entries each, in chunks (all in flight at once would hold 70k promises).
    const ids: string[] = []
    const total = perEpoch / 2 + ID_INDEX_LAG + 100
    for (let from = 0; from < total; from += 4096)
      ids.push(...(await calls(ledger, from, Math.min(4096, total - from))))
    // COMPLETED entries in epoch 0, in epoch 1 (indexed), and after the last refresh (scanned).
    for (const i of [0, perEpoch / 2 - 10, perEpoch / 2 + 10, ids.length - 1]) {
      const entry = await ledger.entry(ids[i]!)
      expect(entry.id).toBe(ids[i])
      expect(entry.entry.type).toBe('FUNCTION_COMPLETED')
    }
    await expect(ledger.entry('bagaaieranotanentry')).rejects.toMatchObject({
      code: 'E_LINEAGE_ENTRY_NOT_FOUND',
    })
    await close(ledger)
    const db = new Database(path, { readonly: true, fileMustExist: true })
    expect(db.prepare('SELECT count(DISTINCT epoch) FROM entry_ids').pluck().get()).toBe(2)
    db.close()
  }, 60_000)

  it('read only the entry and its path: a damaged leaf elsewhere does not touch the proof', async () => {
    const { path, ledger } = await fresh(64)
    const ids = await calls(ledger, 0, 200, true)
    await close(ledger)
    const db = new Database(path)
    // Leaf 300 is not on the path of leaf 3: the proof of entry 3 never reads it.
    db.prepare('UPDATE entries SET leaf = zeroblob(32) WHERE seq = 300').run()
    db.close()
    const reopened = await open(path, { checkpointEvery: 64 })
    const proof = await reopened.proof(ids[1]!)
    expect(proof.leafIndex).toBe(3)
    expect(verifyInclusion(proof, { keyId: reopened.keyId })).toBe(true)
    expect(proof.path.length).toBe(Math.ceil(Math.log2(proof.checkpoint.treeSize)))
    const report = await reopened.verify()
    expect(report.ok).toBe(false)
    expect(report.error?.seq).toBe(300)
  }, 30_000)

  it('error: a changed stored node fails verify (naming the entry it ends at) and every proof through it', async () => {
    const { path, ledger } = await fresh(64)
    const ids = await calls(ledger, 0, 100, true)
    await close(ledger)
    const db = new Database(path)
    // The level-5 node over leaves 0..31 ends at entry 31.
    const key = 31 * 64 + 5
    expect(db.prepare('SELECT count(*) FROM nodes WHERE k = ?').pluck().get(key)).toBe(1)
    db.prepare('UPDATE nodes SET hash = zeroblob(32) WHERE k = ?').run(key)
    db.close()
    const reopened = await open(path, { checkpointEvery: 64 })
    const report = await reopened.verify()
    expect(report.ok).toBe(false)
    expect(report.error?.seq).toBe(31)
    expect(report.error?.message).toContain('Merkle node of level 5')
    // Call 16's COMPLETED (seq 33) sits in leaves 32..63: its path takes the node over 0..31 as a sibling.
    const through = await reopened.proof(ids[16]!)
    expect(through.leafIndex).toBe(33)
    expect(verifyInclusion(through, { keyId: reopened.keyId })).toBe(false)
  }, 30_000)
})
