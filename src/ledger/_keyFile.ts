import { randomBytes } from 'node:crypto'
import { link, mkdir, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LedgerKeyInvalidError, LedgerKeyPermissionsError, LedgerOpenError } from '../errors/ledger.js'
import { importSigner, type LocalSigner, type PrivateKeyJwk } from '../trust/signer.js'

/** Mode bits of group and other: a key file with any of them set is refused. */
const NOT_OWNER = 0o077
/** Windows has no POSIX modes: Node reports 0666 for every writable file. */
const CHECK_MODE = process.platform !== 'win32'

/**
 * Reads a private JWK key file, or `undefined` if there is none. Refuses a file that group or other
 * may read or write (as ssh does with private keys), one that is not a regular file, and one that
 * is not an ed25519 private JWK.
 */
export async function readKeyFile(keyPath: string): Promise<LocalSigner | undefined> {
  let text: string
  try {
    const file = await open(keyPath, 'r')
    try {
      const st = await file.stat()
      if (!st.isFile()) throw new LedgerKeyInvalidError(keyPath, 'it is not a regular file')
      if (CHECK_MODE && (st.mode & NOT_OWNER) !== 0)
        throw new LedgerKeyPermissionsError(keyPath, st.mode & 0o777)
      text = await file.readFile('utf8')
    } finally {
      await file.close()
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    if (err instanceof LedgerKeyInvalidError || err instanceof LedgerKeyPermissionsError) throw err
    throw new LedgerKeyInvalidError(keyPath, (err as Error).message, err)
  }
  let jwk: PrivateKeyJwk
  try {
    jwk = JSON.parse(text) as PrivateKeyJwk
  } catch (err) {
    throw new LedgerKeyInvalidError(keyPath, 'it is not JSON', err)
  }
  try {
    return await importSigner(jwk)
  } catch (err) {
    throw new LedgerKeyInvalidError(
      keyPath,
      (err as { shortMessage?: string }).shortMessage ?? 'bad key',
      err,
    )
  }
}

/**
 * Writes a private JWK to a new key file, mode 0600 whatever the umask, in the format of
 * `fmesh keys new --out`. Never replaces a file: the key is written and synced under a temporary
 * name, then hard-linked to its name (which fails if the name exists), and the directory is synced,
 * so after a crash the key file is either absent or complete.
 */
export async function writeKeyFile(keyPath: string, signer: LocalSigner, ledgerPath: string): Promise<void> {
  const tmp = `${keyPath}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 })
    const file = await open(tmp, 'wx', 0o600)
    try {
      await file.chmod(0o600)
      await file.writeFile(`${JSON.stringify(signer.exportJwk(), null, 2)}\n`)
      await file.sync()
    } finally {
      await file.close()
    }
    await link(tmp, keyPath)
  } catch (err) {
    const exists = (err as NodeJS.ErrnoException).code === 'EEXIST'
    throw new LedgerOpenError(
      ledgerPath,
      `cannot write the checkpoint key file ${keyPath}: ${exists ? 'it appeared while the ledger was opening' : (err as Error).message}`,
      err,
    )
  } finally {
    await unlink(tmp).catch(() => {})
  }
  await syncDirectory(dirname(keyPath))
}

/** Makes a new directory entry durable (not possible on Windows, where it is not needed). */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
