import type Database from 'better-sqlite3'
import { LedgerQueryError } from '../errors/ledger.js'

/** What `mesh.billing.usage` takes. */
export interface UsageOptions {
  /** What to group charges by. */
  by: 'provider' | 'function' | 'principal'
  /** Only charges at or after this time (Date or epoch ms). @default the beginning */
  since?: Date | number
  /** Only charges before this time (Date or epoch ms). @default no end */
  until?: Date | number
}

/** One group's total in one currency. `amount` is exact integer base units. */
export interface UsageRow {
  readonly key: string
  /** `null` for calls to free providers. */
  readonly currency: string | null
  readonly amount: bigint
  readonly calls: number
}

const COLUMNS = { provider: 'provider', function: 'function', principal: 'principal' } as const

/**
 * Sums charges exactly (as bigints; SQLite's SUM would go through floats) per group and currency,
 * from the compact, time-keyed `charge_index` (the charges of entries below `indexed`) and the
 * charge columns of the entries after it.
 */
export function usageOf(db: Database.Database, options: UsageOptions, indexed: number): UsageRow[] {
  if (options === null || typeof options !== 'object')
    throw new LedgerQueryError(
      'usage',
      'options',
      "must be { by: 'provider' | 'function' | 'principal', since? }",
    )
  const column = Object.hasOwn(COLUMNS, options.by) ? COLUMNS[options.by] : undefined
  if (column === undefined)
    throw new LedgerQueryError('usage', 'by', "must be 'provider', 'function' or 'principal'", options.by)
  const since = toMillis(options.since, 'since') ?? 0
  const until = toMillis(options.until, 'until') ?? Number.MAX_SAFE_INTEGER
  const all = options.since === undefined && options.until === undefined
  const rows = (
    all
      ? db
          .prepare(
            `SELECT ${column}, currency, amount FROM charge_index UNION ALL SELECT ${column}, currency, amount FROM entries WHERE seq >= ? AND charge_no IS NOT NULL`,
          )
          .raw()
          .iterate(indexed)
      : db
          .prepare(
            `SELECT ${column}, currency, amount FROM charge_index WHERE at >= ? AND at < ? UNION ALL SELECT ${column}, currency, amount FROM entries WHERE seq >= ? AND charge_no IS NOT NULL AND charged_at >= ? AND charged_at < ?`,
          )
          .raw()
          .iterate(since, until, indexed, since, until)
  ) as Iterable<[string, string | null, string]>
  const groups = new Map<string, { key: string; currency: string | null; amount: bigint; calls: number }>()
  for (const [key, currency, amount] of rows) {
    const id = `${key}\u0000${currency ?? ''}`
    let group = groups.get(id)
    if (group === undefined) {
      group = { key, currency, amount: 0n, calls: 0 }
      groups.set(id, group)
    }
    group.amount += BigInt(amount)
    group.calls++
  }
  return [...groups.values()].sort((a, b) =>
    a.key === b.key ? (a.currency ?? '').localeCompare(b.currency ?? '') : a.key < b.key ? -1 : 1,
  )
}

function toMillis(value: Date | number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = value instanceof Date ? value.getTime() : value
  if (typeof ms !== 'number' || !Number.isFinite(ms))
    throw new LedgerQueryError('usage', field, 'must be a Date or epoch milliseconds', value)
  return ms
}
