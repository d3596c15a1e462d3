import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { LedgerLockedError, LedgerOpenError, LedgerSchemaError } from '../errors/ledger.js'
import { SCHEMA_VERSION } from './_sql.js'
import type { LedgerInit } from './types.js'

/**
 * Opens the SQLite file with one exclusive writer in WAL mode, and refuses a file written with
 * another schema version.
 */
export function openFile(init: LedgerInit): Database.Database {
  let db: Database.Database
  try {
    if (init.path !== ':memory:') mkdirSync(dirname(init.path), { recursive: true })
    db = new Database(init.path, { timeout: 1000 })
  } catch (err) {
    throw new LedgerOpenError(init.path, (err as Error).message, err)
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${init.durability === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma('cache_size = -65536')
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
