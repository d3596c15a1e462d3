import { closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { LedgerLockedError, LedgerOpenError, LedgerSchemaError } from '../errors/ledger.js'
import { logger } from '../logger.js'
import { checkKnownKeys } from '../options.js'
import { SCHEMA_VERSION } from './_sql.js'
import type { LedgerInit } from './types.js'

const log = logger('ledger')

/** Checks the options before anything touches the disk; returns the checkpoint interval. */
/** Every key `openLedger` takes. */
export const LEDGER_INIT_KEYS = [
  'path',
  'keyPath',
  'signer',
  'checkpointEvery',
  'durability',
  'clock',
  'waitForLockMs',
  'onLockWait',
  'maxSizeBytes',
] as const satisfies readonly (keyof LedgerInit)[]

export function checkInit(init: LedgerInit, defaultEvery: number): number {
  if (init === null || typeof init !== 'object' || typeof init.path !== 'string' || init.path === '')
    throw new LedgerOpenError(String(init?.path), '`path` must be a file path')
  checkKnownKeys(init, LEDGER_INIT_KEYS, 'ledger')
  if (init.durability !== undefined && init.durability !== 'normal' && init.durability !== 'full')
    throw new LedgerOpenError(init.path, "`durability` must be 'normal' or 'full'")
  if (
    init.waitForLockMs !== undefined &&
    !(
      typeof init.waitForLockMs === 'number' &&
      Number.isFinite(init.waitForLockMs) &&
      init.waitForLockMs >= 0
    )
  )
    throw new LedgerOpenError(init.path, '`waitForLockMs` must be a number of milliseconds >= 0')
  if (init.onLockWait !== undefined && typeof init.onLockWait !== 'function')
    throw new LedgerOpenError(init.path, '`onLockWait` must be a function')
  if (
    init.maxSizeBytes !== undefined &&
    !(
      typeof init.maxSizeBytes === 'number' &&
      Number.isSafeInteger(init.maxSizeBytes) &&
      init.maxSizeBytes > 0
    )
  )
    throw new LedgerOpenError(init.path, '`maxSizeBytes` must be a positive integer number of bytes')
  const every = init.checkpointEvery ?? defaultEvery
  if (!Number.isSafeInteger(every) || every < 1)
    throw new LedgerOpenError(init.path, '`checkpointEvery` must be a positive integer')
  if (init.keyPath !== undefined && (typeof init.keyPath !== 'string' || init.keyPath === ''))
    throw new LedgerOpenError(init.path, '`keyPath` must be a file path')
  return every
}

/**
 * Opens the SQLite file with one exclusive writer in WAL mode, and refuses a file written with
 * another schema version. A new file is made owner-only (0600); its -wal (and -shm, which exclusive
 * locking never needs) take the file's mode from SQLite.
 */
export function openFile(init: LedgerInit): Database.Database {
  let db: Database.Database
  try {
    if (init.path !== ':memory:') {
      mkdirSync(dirname(init.path), { recursive: true })
      createOwnerOnly(init.path)
    }
    db = new Database(init.path, { timeout: 1000 })
  } catch (err) {
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${init.durability === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma('cache_size = -65536')
    if (init.maxSizeBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(init.maxSizeBytes / pageSize))}`)
    }
    db.exec('BEGIN IMMEDIATE; COMMIT')
  } catch (err) {
    db.close()
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      throw new LedgerLockedError(init.path, err)
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
  const version =
    hasMeta === undefined
      ? undefined
      : (db.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get() as string | undefined)
  if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
    db.close()
    throw new LedgerSchemaError(init.path, version, SCHEMA_VERSION)
  }
  return db
}

/**
 * Creates the ledger file with mode 0600 whatever the umask, before SQLite opens it: SQLite would
 * create it 0644 less the umask. An existing file keeps the mode its owner gave it (a ledger from
 * before this rule gets 0600 when its key is moved out, see `_ledgerKey.ts`); one that others may
 * read is logged.
 */
function createOwnerOnly(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const mode = statSync(path).mode & 0o777
    if ((mode & 0o077) !== 0 && process.platform !== 'win32')
      log('%s is mode 0%s: others can read the ledger (chmod 600 to stop that)', path, mode.toString(8))
    return
  }
  try {
    fchmodSync(fd, 0o600)
  } finally {
    closeSync(fd)
  }
}
