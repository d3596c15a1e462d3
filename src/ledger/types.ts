import type { Clock } from '../clock.js'
import type { Signer } from '../trust/signer.js'

/** How the ledger is opened. */
export interface LedgerInit {
  /** The SQLite file (created with its directory if missing). `:memory:` keeps it in memory (tests only). */
  path: string
  /**
   * The key that signs checkpoints. Given, it is used as is and no key file is read or made (a key
   * file is still written to move out a key that a ledger from before key files keeps inside).
   * @default the key in `keyPath`, made there when the ledger is created
   */
  signer?: Signer
  /**
   * The checkpoint key's file: a private ed25519 JWK (as `fmesh keys new --out` writes), mode 0600,
   * made with the ledger on first open and never over an existing file. A key file that group or
   * other may read or write is refused (`E_LEDGER_KEY_PERMISSIONS`); a ledger with entries whose key
   * file is missing is refused (`E_LEDGER_KEY_MISSING`) rather than given a new key.
   * @default `<path>.key`
   */
  keyPath?: string
  /** @default DEFAULT_CHECKPOINT_EVERY */
  checkpointEvery?: number
  /**
   * `normal`: WAL with synchronous=NORMAL, a committed batch survives a process crash (the OS holds
   * it) and the WAL is synced at checkpoints; `full`: every batch commit is also synced to disk, which
   * also survives power loss. @default 'normal'
   */
  durability?: 'normal' | 'full'
  clock?: Clock
  /**
   * How long to wait for a ledger another process holds (one writer per file) before refusing with
   * `E_LEDGER_LOCKED`: a CLI command queues behind a running one instead of failing. @default 0
   */
  waitForLockMs?: number
  /**
   * Opens an existing ledger for reading only: no writer lock is taken, so a read never waits for a
   * writer (another command or a node) and reads its committed entries as they land; nothing is
   * created or written, and writes are refused (`E_LEDGER_READ_ONLY`). A missing file is
   * `E_LEDGER_MISSING`. @default false
   */
  readOnly?: boolean
  /** Called once when the ledger is found held and `waitForLockMs` lets this open wait for it. */
  onLockWait?: (path: string) => void
  /**
   * Largest the ledger file may grow (SQLite's `max_page_count`, rounded down to whole pages): a
   * batch that would grow it past this fails as on a full disk, with `E_LEDGER_WRITE`, and nothing
   * of it is kept (the ledger refuses writes until reopened; recovery closes calls left open). A
   * quota for a ledger on a shared disk, and how the fault suite makes a full disk reproducible.
   * @default no limit beyond the disk's
   */
  maxSizeBytes?: number
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
