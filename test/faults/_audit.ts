import Database from 'better-sqlite3'
import { openLedger } from '../../src/ledger/Ledger.js'

/**
 * What one fault run checked, in the four counts every fault reports (each must be 0) and the
 * problems behind them. `calls` is how many calls (or lookups) the run made.
 */
export interface FaultReport {
  readonly fault: string
  /** One line: what was done to the system and what was checked. */
  readonly checked: string
  readonly calls: number
  /** A result the caller saw (a call's output, a record) that the ledger or the node does not hold. */
  readonly lost: number
  /** An invocation charged more than once, or a charge no successful call accounts for. */
  readonly doubleCharges: number
  /** Calls that did not settle (result or error) within their deadline and its grace. */
  readonly brokeDeadline: number
  /** Answers served older than their freshness window allows (past TTL + stale-if-error). */
  readonly staleServed: number
  readonly problems: readonly string[]
}

/** A report's counts are all zero and it lists no problem. */
export function clean(report: FaultReport): boolean {
  return (
    report.lost === 0 &&
    report.doubleCharges === 0 &&
    report.brokeDeadline === 0 &&
    report.staleServed === 0 &&
    report.problems.length === 0
  )
}

export interface LedgerAudit {
  lost: number
  doubleCharges: number
  problems: string[]
  charged: number
}

/**
 * Reopens the ledger file (crash recovery runs), verifies it, and checks it against what callers saw:
 * every invocation in `succeeded` has exactly one charged COMPLETED entry (none: lost; more: double),
 * no other invocation is charged (a charge no result accounts for counts as a double charge), no
 * attempt is left open, and each lease's spent total equals its charges.
 */
export async function auditLedger(path: string, succeeded: readonly string[]): Promise<LedgerAudit> {
  const problems: string[] = []
  const ledger = await openLedger({ path })
  try {
    const report = await ledger.verify()
    if (!report.ok) problems.push(`ledger verify: ${report.error?.message}`)
  } finally {
    await ledger.close()
  }
  const db = new Database(path, { readonly: true })
  try {
    const perInvocation = new Map<string, number>()
    for (const [invocation, n] of db
      .prepare('SELECT invocation, count(*) FROM entries WHERE charge_no IS NOT NULL GROUP BY invocation')
      .raw()
      .all() as [string, number][])
      perInvocation.set(invocation, n)
    let lost = 0
    let doubleCharges = 0
    const wanted = new Set(succeeded)
    for (const id of wanted) {
      const n = perInvocation.get(id) ?? 0
      if (n === 0) {
        lost++
        problems.push(`invocation ${id} returned a result but has no charged COMPLETED entry`)
      } else if (n > 1) {
        doubleCharges += n - 1
        problems.push(`invocation ${id} is charged ${n} times`)
      }
    }
    for (const [id, n] of perInvocation)
      if (!wanted.has(id)) {
        doubleCharges += n
        problems.push(`invocation ${id} is charged but no caller got its result`)
      }
    const open = db.prepare('SELECT count(*) FROM open_attempts').pluck().get() as number
    if (open !== 0) problems.push(`${open} attempts left open after recovery`)
    const balances = db.prepare('SELECT lease, currency, spent FROM balances').all() as {
      lease: string
      currency: string
      spent: string
    }[]
    for (const b of balances) {
      const amounts = db
        .prepare('SELECT amount FROM entries WHERE charge_no IS NOT NULL AND lease = ? AND currency = ?')
        .pluck()
        .all(b.lease, b.currency) as string[]
      const total = amounts.reduce((sum, a) => sum + BigInt(a), 0n)
      if (total !== BigInt(b.spent))
        problems.push(`lease ${b.lease} spent ${b.spent} but its charges sum to ${total}`)
    }
    const charged = [...perInvocation.values()].reduce((a, b) => a + b, 0)
    return { lost, doubleCharges, problems, charged }
  } finally {
    db.close()
  }
}
