import { LedgerQueryError } from '../errors/ledger.js'
import type { Statements } from './_sql.js'
import type { LineageEntry } from './entry.js'

/** What `mesh.lineage.recent` takes. Every filter is optional; they combine with AND. */
export interface RecentCallsOptions {
  /** At most this many calls, newest first. @default 20 (at most 10000) */
  limit?: number
  /** Only calls whose last attempt failed. @default false */
  failed?: boolean
  /** Only calls of this function (`namespace/path`, no version). */
  function?: string
  /** Only calls made by this principal. */
  principal?: string
}

/** How a call ended, as its newest entry says. */
export type CallOutcome = 'completed' | 'failed' | 'in-flight'

/** One call (every attempt of one invocation), summarised from its lineage entries. */
export interface RecentCall {
  readonly invocation: string
  /**
   * `completed`: its last entry is FUNCTION_COMPLETED; `failed`: FUNCTION_FAILED (the call gave up,
   * or is waiting to retry); `in-flight`: FUNCTION_INVOKED with no terminal entry yet.
   */
  readonly outcome: CallOutcome
  readonly function: string
  /** The version and provider of the last attempt (a failover changes the provider). */
  readonly version: string
  readonly provider: string
  readonly principal: string
  readonly attempts: number
  /** When the first attempt was invoked and when the last entry was written (epoch ms). */
  readonly startedAt: number
  readonly endedAt: number | null
  /** From the first FUNCTION_INVOKED to the terminal entry; `null` while in flight. */
  readonly durationMs: number | null
  /** The charge of a completed call (exact base units as a decimal string); `null` otherwise. */
  readonly charge: { readonly amount: string; readonly currency: string | null } | null
  /** The error of a failed call's last attempt. */
  readonly error: { readonly code: string; readonly message: string } | null
  /** The ids of the call's entries, in log order. */
  readonly entries: readonly string[]
  /** Set when a trigger dispatch started the call. */
  readonly trigger?: { readonly kind: string; readonly eventCid: string }
}

interface Building {
  invocation: string
  last: LineageEntry
  first: LineageEntry
  entries: string[]
  attempts: number
  started: boolean
}

export const RECENT_DEFAULT_LIMIT = 20
const RECENT_MAX_LIMIT = 10_000

function check(options: RecentCallsOptions): Required<Pick<RecentCallsOptions, 'limit' | 'failed'>> {
  if (options === null || typeof options !== 'object')
    throw new LedgerQueryError('recent', 'options', 'must be { limit?, failed?, function?, principal? }')
  const limit = options.limit ?? RECENT_DEFAULT_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > RECENT_MAX_LIMIT)
    throw new LedgerQueryError(
      'recent',
      'limit',
      `must be a whole number from 1 to ${RECENT_MAX_LIMIT}`,
      limit,
    )
  if (options.failed !== undefined && typeof options.failed !== 'boolean')
    throw new LedgerQueryError('recent', 'failed', 'must be a boolean', options.failed)
  for (const field of ['function', 'principal'] as const) {
    const value = options[field]
    if (value !== undefined && (typeof value !== 'string' || value === ''))
      throw new LedgerQueryError('recent', field, 'must be a non-empty string', value)
  }
  return { limit, failed: options.failed ?? false }
}

/**
 * The newest calls, read backwards from the end of the log: a call is placed by its newest entry
 * (which says how it ended and decides the filters), then the scan goes on only until the first
 * attempt of every call picked so far is found, so asking for 20 calls reads about their entries and
 * the ones interleaved with them, not the whole log.
 */
export function recentCalls(st: Statements, options: RecentCallsOptions = {}): RecentCall[] {
  const { limit, failed } = check(options)
  const picked = new Map<string, Building>()
  const skipped = new Set<string>()
  let unstarted = 0
  for (const row of st.entriesNewestFirst.iterate() as Iterable<{
    id: string
    invocation: string
    body: Buffer
  }>) {
    let call = picked.get(row.invocation)
    if (call === undefined) {
      if (skipped.has(row.invocation)) continue
      if (picked.size === limit) {
        if (unstarted === 0) break
        continue
      }
      const entry = JSON.parse(row.body.toString('utf8')) as LineageEntry
      const matches =
        (!failed || entry.type === 'FUNCTION_FAILED') &&
        (options.function === undefined || entry.function === options.function) &&
        (options.principal === undefined || entry.principal === options.principal)
      if (!matches) {
        skipped.add(row.invocation)
        continue
      }
      call = {
        invocation: row.invocation,
        last: entry,
        first: entry,
        entries: [],
        attempts: 0,
        started: false,
      }
      picked.set(row.invocation, call)
      unstarted++
    } else if (call.started) continue
    const entry =
      call.entries.length === 0 ? call.last : (JSON.parse(row.body.toString('utf8')) as LineageEntry)
    call.entries.push(row.id)
    call.first = entry
    if (entry.type === 'FUNCTION_INVOKED') {
      call.attempts++
      if (entry.attempt === 1) {
        call.started = true
        unstarted--
        if (unstarted === 0 && picked.size === limit) break
      }
    }
  }
  return [...picked.values()].map(summary)
}

function summary(call: Building): RecentCall {
  const { last, first } = call
  const outcome: CallOutcome =
    last.type === 'FUNCTION_COMPLETED'
      ? 'completed'
      : last.type === 'FUNCTION_FAILED'
        ? 'failed'
        : 'in-flight'
  const endedAt = outcome === 'in-flight' ? null : last.at
  const trigger = first.type === 'FUNCTION_INVOKED' ? first.trigger : undefined
  return {
    invocation: call.invocation,
    outcome,
    function: last.function,
    version: last.version,
    provider: last.provider,
    principal: last.principal,
    attempts: call.attempts,
    startedAt: first.at,
    endedAt,
    durationMs: endedAt === null ? null : endedAt - first.at,
    charge:
      last.type === 'FUNCTION_COMPLETED'
        ? { amount: last.charge.amount, currency: last.charge.currency }
        : null,
    error: last.type === 'FUNCTION_FAILED' ? { code: last.error.code, message: last.error.message } : null,
    entries: call.entries.reverse(),
    ...(trigger === undefined ? {} : { trigger }),
  }
}
