import type { Ledger } from './Ledger.js'
import type { UsageOptions, UsageRow } from './usage.js'

/** Billing: `mesh.billing`. */
export interface MeshBilling {
  /** Charges summed per provider, function or principal (and currency), exactly, as bigints. */
  usage(options: UsageOptions): Promise<UsageRow[]>
}

/**
 * `mesh.billing` over a ledger that is opened on first use.
 *
 * @example
 * ```ts
 * const billing = billingFacade(() => openLedger({ path: './data/ledger.sqlite' }))
 * const rows = await billing.usage({ by: 'provider', since: Date.now() - 86_400_000 })
 * ```
 */
export function billingFacade(ledger: () => Promise<Ledger>): MeshBilling {
  return { usage: async (options) => (await ledger()).usage(options) }
}
