import type Database from 'better-sqlite3'
import type { EntryIndex } from './_entryIndex.js'
import type { Sealed } from './_sealEntry.js'

const COLUMNS =
  'INSERT INTO entries (seq, id, type, invocation, body, leaf, charge_no, function, version, provider, principal, lease, currency, amount, quantity, charged_at) VALUES '
const WIDTH = 16
const ROW = `(${Array.from({ length: WIDTH }, () => '?').join(', ')})`
const NO_CHARGE: readonly unknown[] = [null, null, null, null, null, null, null, null, null, null]
const WIDE = 16

function insertOf(db: Database.Database, rows: number): Database.Statement {
  return db.prepare(COLUMNS + Array.from({ length: rows }, () => ROW).join(', '))
}

/**
 * The entry rows of one write transaction, inserted together at its end with multi-row statements
 * (16 rows, then pairs, then one), so a batch of N entries costs about N/16 statement runs instead
 * of N. They land in seq order at the end of the table either way.
 */
export class EntryRows {
  private rows: Sealed[] = []
  private readonly wide: Database.Statement
  private readonly pair: Database.Statement
  private readonly one: Database.Statement

  constructor(
    db: Database.Database,
    private readonly ids: EntryIndex,
  ) {
    this.wide = insertOf(db, WIDE)
    this.pair = insertOf(db, 2)
    this.one = insertOf(db, 1)
  }

  add(sealed: Sealed): void {
    this.rows.push(sealed)
  }

  /**
   * Inserts the rows added since the last flush (inside the write transaction) and lets the id
   * index catch up; returns what {@link EntryIndex.refresh} returns.
   */
  flush(): number | undefined {
    const rows = this.rows
    if (rows.length === 0) return undefined
    this.rows = []
    this.ids.written = rows[rows.length - 1]!.seq + 1
    let i = 0
    while (rows.length - i >= WIDE) {
      this.wide.run(...args(rows, i, WIDE))
      i += WIDE
    }
    while (rows.length - i >= 2) {
      this.pair.run(...args(rows, i, 2))
      i += 2
    }
    if (i < rows.length) this.one.run(...args(rows, i, 1))
    return this.ids.refresh()
  }

  /** Drops rows of a transaction that failed. */
  clear(): void {
    this.rows = []
  }
}

function args(rows: readonly Sealed[], from: number, count: number): unknown[] {
  const out: unknown[] = new Array(count * WIDTH)
  for (let k = 0; k < count; k++) {
    const s = rows[from + k]!
    let o = k * WIDTH
    out[o++] = s.seq
    out[o++] = s.id
    out[o++] = s.type
    out[o++] = s.invocation
    out[o++] = s.bytes
    out[o++] = s.leaf
    const charge = s.charge ?? NO_CHARGE
    for (let c = 0; c < charge.length; c++) out[o++] = charge[c]
  }
  return out
}
