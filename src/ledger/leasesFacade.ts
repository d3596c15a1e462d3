import type { LeaseGrant, LeaseInfo } from './LeaseBook.js'
import type { Ledger } from './Ledger.js'

/** Leases: `mesh.leases`. */
export interface MeshLeases {
  /** Grants a lease; resolves once it is committed. */
  grant(grant: LeaseGrant): Promise<LeaseInfo>
  /** A lease's capabilities, expiry and per-currency balances. */
  get(id: string): Promise<LeaseInfo>
  /** Every lease in the ledger, revoked and expired ones included, oldest first. */
  list(): Promise<LeaseInfo[]>
  /** Revokes a lease; calls holding it are refused from then on. */
  revoke(id: string): Promise<void>
}

/**
 * `mesh.leases` over a ledger that is opened on first use.
 *
 * @example
 * ```ts
 * const leases = leasesFacade(() => openLedger({ path: './data/ledger.sqlite' }))
 * const lease = await leases.grant({ capabilities: ['acme.com/**'], budgets: { USDC: 1_000_000n }, ttlMs: 3_600_000 })
 * ```
 */
export function leasesFacade(ledger: () => Promise<Ledger>): MeshLeases {
  return {
    grant: async (grant) => (await ledger()).leases.grant(grant),
    get: async (id) => (await ledger()).leases.get(id),
    list: async () => (await ledger()).leases.list(),
    revoke: async (id) => (await ledger()).leases.revoke(id),
  }
}
