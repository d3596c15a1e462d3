import type { Statements } from './_sql.js'
import type { Charge } from './types.js'

/** What a FUNCTION_COMPLETED entry's charge row records besides its amounts. */
export interface ChargeFacts {
  readonly function: string
  readonly version: string
  readonly provider: string
  readonly principal: string
}

/** The ordinal of the newest charge in the file (0 when there is none). */
export function lastChargeOrdinal(st: Statements): number {
  return Number(st.lastChargeId.get() ?? 0)
}

/** The charge of the FUNCTION_COMPLETED entry `entryId`. */
export function chargeFor(
  entryId: string,
  bill: { currency: string | null; amount: bigint; quantity: bigint },
  lease: string | undefined,
): Charge {
  const { currency, amount, quantity } = bill
  return lease === undefined
    ? { entry: entryId, currency, amount, quantity }
    : { entry: entryId, currency, amount, quantity, lease }
}

/**
 * The charge columns of a FUNCTION_COMPLETED entry row (`charge_no` to `charged_at`, in the order
 * `entries` declares them): the charge is written in the entry's own row. `ordinal` numbers charges
 * from 1 in log order.
 */
export function chargeColumns(ordinal: number, facts: ChargeFacts, charge: Charge, at: number): unknown[] {
  return [
    ordinal,
    facts.function,
    facts.version,
    facts.provider,
    facts.principal,
    charge.lease ?? null,
    charge.currency,
    charge.amount.toString(),
    charge.quantity.toString(),
    at,
  ]
}

/** The committed charge of the entry `entryId` at `seq`, if any. */
export function readCharge(st: Statements, entryId: string, seq: number): Charge | undefined {
  const row = st.chargeByEntry.get(seq) as
    | { currency: string | null; amount: string; quantity: string; lease: string | null }
    | undefined
  if (row === undefined) return undefined
  return chargeFor(
    entryId,
    { currency: row.currency, amount: BigInt(row.amount), quantity: BigInt(row.quantity) },
    row.lease ?? undefined,
  )
}
