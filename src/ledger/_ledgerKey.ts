import { chmodSync, existsSync } from 'node:fs'
import type Database from 'better-sqlite3'
import { LedgerKeyConflictError, LedgerKeyMissingError, LedgerOpenError } from '../errors/ledger.js'
import { logger } from '../logger.js'
import {
  generateSigner,
  importSigner,
  type LocalSigner,
  type PrivateKeyJwk,
  type Signer,
} from '../trust/signer.js'
import { readKeyFile, writeKeyFile } from './_keyFile.js'
import type { LedgerInit } from './types.js'

const log = logger('ledger')

/** Appended to the ledger's path to name its key file when `keyPath` is not given. */
export const KEY_FILE_SUFFIX = '.key'

/** The key that signs a ledger's checkpoints, and the file it lives in (none for a passed `signer`). */
export interface LedgerKey {
  readonly signer: Signer
  readonly keyPath: string | undefined
}

/**
 * Finds or makes the checkpoint key, in order: a key a ledger from before key files keeps in its
 * `meta` table is first moved out to the key file; a passed `signer` is used as given; else the key
 * file's key; else, for a ledger without history, a new key written to a new key file. A ledger with
 * history and no key file is refused rather than given a new key, which would let a copy of the file
 * alone be re-signed. `:memory:` ledgers (tests) get a key that lives as long as they do.
 */
export async function ledgerKey(db: Database.Database, init: LedgerInit): Promise<LedgerKey> {
  const memory = init.path === ':memory:' && init.keyPath === undefined
  const keyPath = init.keyPath ?? `${init.path}${KEY_FILE_SUFFIX}`
  const legacy = db.prepare("SELECT v FROM meta WHERE k = 'key'").pluck().get() as string | undefined
  if (legacy !== undefined && !memory) await moveKeyOut(db, init.path, keyPath, legacy)
  if (init.signer !== undefined) return { signer: init.signer, keyPath: undefined }
  if (memory) return { signer: await generateSigner(), keyPath: undefined }
  const stored = await readKeyFile(keyPath)
  if (stored !== undefined) return { signer: stored, keyPath }
  const history = db
    .prepare('SELECT EXISTS (SELECT 1 FROM entries) OR EXISTS (SELECT 1 FROM checkpoints)')
    .pluck()
    .get()
  if (history === 1) {
    const keyIds = db.prepare('SELECT DISTINCT key_id FROM checkpoints').pluck().all() as string[]
    throw new LedgerKeyMissingError(init.path, keyPath, keyIds)
  }
  const signer = await generateSigner()
  await writeKeyFile(keyPath, signer, init.path)
  log('made the checkpoint key %s in %s', signer.id, keyPath)
  return { signer, keyPath }
}

/**
 * The checkpoint key of a ledger opened read-only, found as `ledgerKey` finds it but never written:
 * a passed `signer`, else the key file's key, else a key a ledger from before key files keeps in its
 * `meta` table (left there; the next writer moves it out). A ledger with none is refused
 * (`E_LEDGER_KEY_MISSING`), as a writer would refuse it.
 */
export async function readerKey(db: Database.Database, init: LedgerInit): Promise<LedgerKey> {
  if (init.signer !== undefined) return { signer: init.signer, keyPath: undefined }
  const keyPath = init.keyPath ?? `${init.path}${KEY_FILE_SUFFIX}`
  const stored = await readKeyFile(keyPath)
  if (stored !== undefined) return { signer: stored, keyPath }
  const legacy = db.prepare("SELECT v FROM meta WHERE k = 'key'").pluck().get() as string | undefined
  if (legacy !== undefined) {
    try {
      return { signer: await importSigner(JSON.parse(legacy) as PrivateKeyJwk), keyPath: undefined }
    } catch (err) {
      throw new LedgerOpenError(
        init.path,
        'the checkpoint key in its meta table is not a private ed25519 JWK',
        err,
      )
    }
  }
  const keyIds = db.prepare('SELECT DISTINCT key_id FROM checkpoints').pluck().all() as string[]
  throw new LedgerKeyMissingError(init.path, keyPath, keyIds)
}

/**
 * Moves the private key a ledger from before key files keeps in `meta` out to the key file, with the
 * same key id so the old checkpoints keep verifying: the key file is written and synced first, then
 * the row is deleted in one transaction with its bytes overwritten (`secure_delete`) and the WAL
 * emptied into the file. That file was created world-readable, so it is made owner-only (0600) with
 * its WAL.
 */
async function moveKeyOut(db: Database.Database, path: string, keyPath: string, stored: string) {
  let signer: LocalSigner
  try {
    signer = await importSigner(JSON.parse(stored) as PrivateKeyJwk)
  } catch (err) {
    throw new LedgerOpenError(path, 'the checkpoint key in its meta table is not a private ed25519 JWK', err)
  }
  const inFile = await readKeyFile(keyPath)
  if (inFile === undefined) await writeKeyFile(keyPath, signer, path)
  else if (inFile.id !== signer.id) throw new LedgerKeyConflictError(path, keyPath, signer.id, inFile.id)
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number
  db.pragma('secure_delete = ON')
  try {
    db.transaction(() => db.prepare("DELETE FROM meta WHERE k = 'key'").run()).immediate()
  } finally {
    db.pragma(`secure_delete = ${secureDelete}`)
  }
  db.pragma('wal_checkpoint(TRUNCATE)')
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600)
  log(
    'moved the checkpoint key %s out of %s into %s; the ledger file is now mode 0600',
    signer.id,
    path,
    keyPath,
  )
}
