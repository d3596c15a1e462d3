import type { Clock } from '../clock.js'
import type { Signer } from '../trust/signer.js'

/** How the ledger is opened. */
export interface LedgerInit {
  /** The SQLite file (created with its directory if missing). `:memory:` keeps it in memory (tests only). */
  path: string
  /** The key that signs checkpoints. By default a key is made on first open and kept in the ledger file. */
  signer?: Signer
  /** @default DEFAULT_CHECKPOINT_EVERY */
  checkpointEvery?: number
  /**
   * `normal`: WAL with synchronous=NORMAL, a committed batch survives a process crash (the OS holds
   * it) and the WAL is synced at checkpoints; `full`: every batch commit is also synced to disk, which
   * also survives power loss. @default 'normal'
   */
  durability?: 'normal' | 'full'
  clock?: Clock
}

/** The charge written with a FUNCTION_COMPLETED entry. Amounts are integer base units. */
export interface Charge {
  /** The FUNCTION_COMPLETED entry id the charge belongs to. */
  readonly entry: string
  /** `null` when the provider is free. */
  readonly currency: string | null
  readonly amount: bigint
  readonly quantity: bigint
  readonly lease?: string
}
