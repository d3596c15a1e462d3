import { closeSync, existsSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import {
  LedgerLockedError,
  LedgerMissingError,
  LedgerOpenError,
  LedgerSchemaError,
} from '../errors/ledger.js'
import { logger } from '../logger.js'
import { checkKnownKeys } from '../options.js'
import { SCHEMA_VERSION } from './_sql.js'
import { WRITER_LOCK_SUFFIX, WriterLock } from './_writerLock.js'
import type { LedgerInit } from './types.js'

const log = logger('ledger')

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
  'readOnly',
  'maxSizeBytes',
] as const satisfies readonly (keyof LedgerInit)[]

/** Checks the options before anything touches the disk; returns the checkpoint interval. */
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
  if (init.readOnly !== undefined && typeof init.readOnly !== 'boolean')
    throw new LedgerOpenError(init.path, '`readOnly` must be true or false')
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

/** The open ledger file, and the writer lock held with it (none when read-only or in memory). */
export interface OpenedFile {
  db: Database.Database
  lock: WriterLock | undefined
}

/**
 * Opens the SQLite file in WAL mode and refuses a file written with another schema version.
 *
 * A writer first takes the ledger's writer lock (see `WriterLock`: one writer per file, across
 * processes), then opens the file with NORMAL locking, so readers share it. A new file is made
 * owner-only (0600); its -wal and -shm take the file's mode from SQLite.
 *
 * `readOnly` opens an existing file for reading only (`E_LEDGER_MISSING` when there is none): no
 * lock is taken, no writer is waited for, and the file is never written (SQLite refuses writes on
 * the connection). Each read sees the last committed snapshot.
 */
export function openFile(init: LedgerInit): OpenedFile {
  if (init.readOnly === true) return { db: openReader(init), lock: undefined }
  let db: Database.Database
  let lock: WriterLock | undefined
  try {
    if (init.path !== ':memory:') {
      mkdirSync(dirname(init.path), { recursive: true })
      createOwnerOnly(init.path)
      createOwnerOnly(`${init.path}${WRITER_LOCK_SUFFIX}`)
    }
  } catch (err) {
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  if (init.path !== ':memory:') lock = WriterLock.acquire(init.path)
  try {
    db = new Database(init.path, { timeout: 1000 })
  } catch (err) {
    lock?.release()
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${init.durability === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma('cache_size = -65536')
    if (init.maxSizeBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(init.maxSizeBytes / pageSize))}`)
    }
    db.exec('BEGIN IMMEDIATE; COMMIT')
    checkSchema(db, init.path)
  } catch (err) {
    db.close()
    lock?.release()
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      throw new LedgerLockedError(init.path, err)
    if (err instanceof LedgerSchemaError) throw err
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  return { db, lock }
}

function openReader(init: LedgerInit): Database.Database {
  if (init.path === ':memory:')
    throw new LedgerOpenError(init.path, 'a `:memory:` ledger cannot be opened read-only')
  if (!existsSync(init.path)) throw new LedgerMissingError(init.path)
  let db: Database.Database
  try {
    db = new Database(init.path, { readonly: true, fileMustExist: true, timeout: 1000 })
  } catch (err) {
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  try {
    db.pragma('cache_size = -16384')
    checkSchema(db, init.path)
  } catch (err) {
    db.close()
    if (err instanceof LedgerSchemaError) throw err
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  return db
}

function checkSchema(db: Database.Database, path: string): void {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
  const version =
    hasMeta === undefined
      ? undefined
      : (db.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get() as string | undefined)
  if (version !== undefined && Number(version) !== SCHEMA_VERSION)
    throw new LedgerSchemaError(path, version, SCHEMA_VERSION)
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
