import { MeshError } from '../errors/base.js'
import { IdempotencyConflictError } from '../errors/invoke.js'
import type { KeyRecord } from '../ledger/idempotencyKeys.js'
import type { Ledger } from '../ledger/Ledger.js'
import type { CallResult } from './types.js'

// Idempotency keys on the call path: the same key answers with the first call's stored result.

/** Refuses an idempotency key reused for another function or input. */
export function checkSameCall(
  key: string,
  principal: string,
  stored: Pick<KeyRecord, 'function' | 'inputCid'>,
  name: string,
  inputCid: string,
): void {
  if (stored.function !== name)
    throw new IdempotencyConflictError(key, principal, 'function', stored.function, name)
  if (stored.inputCid !== inputCid)
    throw new IdempotencyConflictError(key, principal, 'input', stored.inputCid, inputCid)
}

/** The result of a call already completed under this key, rebuilt from the ledger: no second run. */
export async function replayStored(
  ledger: Ledger,
  stored: Extract<KeyRecord, { state: 'completed' }>,
): Promise<CallResult> {
  const entries = await ledger.lineage(stored.invocation)
  const completed = entries.find((e) => e.id === stored.completed)
  const invoked = entries.find(
    (e) => e.id === (completed?.entry as { invoked?: string } | undefined)?.invoked,
  )
  const charge = ledger.chargeOf(stored.completed)
  if (completed === undefined || invoked === undefined || charge === undefined)
    throw new MeshError(
      'E_LEDGER_INCONSISTENT',
      `The stored result of invocation ${stored.invocation} lacks its lineage`,
      {
        details: { invocation: stored.invocation, completed: stored.completed },
        hint: 'Run `fmesh lineage verify`: the ledger file may have been altered.',
      },
    )
  const e = invoked.entry as { provider: string; endpoint: string; version: string; attempt: number }
  return {
    output: JSON.parse(stored.output) as unknown,
    provider: { id: e.provider, endpoint: e.endpoint },
    version: e.version,
    invocationId: stored.invocation,
    lineage: { invoked: invoked.id, completed: completed.id, entries: entries.map((x) => x.id) },
    charge,
    attempts: e.attempt,
    replayed: true,
  }
}
