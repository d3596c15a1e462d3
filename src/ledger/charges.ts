import type { Statements } from './_sql.js'
import type { Charge } from './types.js'

/** What a FUNCTION_COMPLETED entry's charge row records besides its amounts. */
export interface ChargeFacts {
  readonly invocation: string
  readonly function: string
  readonly version: string
  readonly provider: string
  readonly principal: string
}

/** The charge of the FUNCTION_COMPLETED entry `entryId` at `seq`. */
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

/** Writes the charge row of the entry at `seq` (inside the transaction that writes the entry). */
export function writeCharge(
  st: Statements,
  seq: number,
  facts: ChargeFacts,
  charge: Charge,
  at: number,
): void {
  st.insertCharge.run(
    seq,
    facts.invocation,
    facts.function,
    facts.version,
    facts.provider,
    facts.principal,
    charge.lease ?? null,
    charge.currency,
    charge.amount.toString(),
    charge.quantity.toString(),
    at,
  )
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
