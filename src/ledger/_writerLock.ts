import Database from 'better-sqlite3'
import { LedgerLockedError, LedgerOpenError } from '../errors/ledger.js'

/** Appended to the ledger's path to name the file whose lock marks its one writer. */
export const WRITER_LOCK_SUFFIX = '-writer'

/**
 * The ledger's one-writer rule across processes: the writer holds an exclusive SQLite lock on a
 * small side file (`<path>-writer`) for as long as it has the ledger open. The lock is the OS's
 * (fcntl), so it goes with the process however that ends: no stale lock file to clean up. The
 * ledger file itself stays in WAL with NORMAL locking, so read-only opens read the committed
 * snapshot while the writer writes, and never wait for it.
 *
 * Throws `E_LEDGER_LOCKED` at once when another writer holds it (`waitForLock` retries).
 */
export class WriterLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(ledgerPath: string): WriterLock {
    const path = `${ledgerPath}${WRITER_LOCK_SUFFIX}`
    let db: Database.Database
    try {
      db = new Database(path, { timeout: 0 })
    } catch (err) {
      throw new LedgerOpenError(
        ledgerPath,
        `cannot open its writer lock ${path}: ${(err as Error).message}`,
        err,
      )
    }
    try {
      // No journal file: nothing is ever written; EXCLUSIVE keeps the lock BEGIN EXCLUSIVE takes.
      db.pragma('journal_mode = MEMORY')
      db.pragma('locking_mode = EXCLUSIVE')
      db.exec('BEGIN EXCLUSIVE; COMMIT')
    } catch (err) {
      db.close()
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
        throw new LedgerLockedError(ledgerPath, err)
      throw new LedgerOpenError(ledgerPath, `cannot lock ${path}: ${(err as Error).message}`, err)
    }
    return new WriterLock(db)
  }

  release(): void {
    if (this.db.open) this.db.close()
  }
}
