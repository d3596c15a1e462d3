import { InvalidArgumentError } from '../errors/mesh.js'
import type { Checkpoint, InclusionProof } from './checkpoint.js'
import type { LineageEntry } from './entry.js'
import type { Ledger } from './Ledger.js'
import type { RecentCall, RecentCallsOptions } from './recentCalls.js'
import type { VerifyOptions, VerifyReport } from './verifyLedger.js'

/** Lineage audit: `mesh.lineage`. */
export interface MeshLineage {
  /** An inclusion proof for an entry, against a signed checkpoint; check it with `verifyInclusion`. */
  proof(entryId: string): Promise<InclusionProof>
  /**
   * Re-checks the whole log and reports the first bad entry. Pass `keyId` (the ledger key id you
   * published) to require every checkpoint to be signed by it; without it the ledger's own key file
   * is trusted, and the report says so (`pinned: false`).
   */
  verify(options?: VerifyOptions): Promise<VerifyReport>
  /** Every entry of one call (all attempts), in log order. */
  entries(invocationId: string): Promise<{ id: string; entry: LineageEntry }[]>
  /**
   * The newest calls first, each summarised from its entries: outcome, function@version, provider,
   * principal, attempts, duration, charge or error. Filter with `failed`, `function`, `principal`.
   */
  recent(options?: RecentCallsOptions): Promise<RecentCall[]>
  /** Signs a checkpoint of the log as it is now. */
  checkpoint(): Promise<Checkpoint>
  /** The ledger key (`did:key`) that signs checkpoints: publish it, and pin it in `verify`. */
  keyId(): Promise<string>
}

/**
 * `mesh.lineage` over a ledger that is opened on first use: each method awaits `ledger()` and asks
 * the ledger, so a mesh that never audits never touches the disk.
 *
 * @example
 * ```ts
 * const lineage = lineageFacade(() => openLedger({ path: './data/ledger.sqlite' }))
 * const report = await lineage.verify({ keyId: 'did:key:z6Mk...' }) // the key id you published
 * if (!report.ok) throw report.error
 * ```
 */
export function lineageFacade(ledger: () => Promise<Ledger>): MeshLineage {
  return {
    proof: async (entryId) => (await ledger()).proof(entryId),
    verify: async (options) => (await ledger()).verify(options),
    entries: async (invocationId) => {
      if (typeof invocationId !== 'string' || invocationId === '')
        throw new InvalidArgumentError(
          'mesh.lineage.entries',
          'invocationId',
          'a non-empty string',
          invocationId,
        )
      return (await (await ledger()).lineage(invocationId)).map((e) => ({ id: e.id, entry: e.entry }))
    },
    recent: async (options) => (await ledger()).recent(options),
    checkpoint: async () => (await ledger()).checkpoint(),
    keyId: async () => (await ledger()).keyId,
  }
}
