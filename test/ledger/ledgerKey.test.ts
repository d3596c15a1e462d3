import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { checkpointPayload } from '../../src/ledger/checkpoint.js'
import { type Ledger, openLedger } from '../../src/ledger/Ledger.js'
import { createMesh } from '../../src/mesh.js'
import { generateSigner, type LocalSigner, type PrivateKeyJwk } from '../../src/trust/signer.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { baseEntry, ledgerFixture, oneCall } from '../_helpers/ledgers.js'
import { upperFunction } from '../_helpers/upper.js'

const { tmpDir, open, close } = ledgerFixture('fmesh-ledgerkey-')

const mode = (path: string) => statSync(path).mode & 0o777

const _base = (invocation: string) => baseEntry(invocation)

/** A closed ledger at `<dir>/ledger.sqlite` with 6 calls and a checkpoint every 4 entries. */
async function ledgerWithHistory(dir = tmpDir()) {
  const path = join(dir, 'ledger.sqlite')
  const ledger = await open(path, { checkpointEvery: 4 })
  for (let i = 0; i < 6; i++) await oneCall(ledger, i)
  const keyId = ledger.keyId
  await close(ledger)
  return { dir, path, keyPath: `${path}.key`, keyId }
}

const readJwk = (keyPath: string) => JSON.parse(readFileSync(keyPath, 'utf8')) as PrivateKeyJwk

/** Turns a ledger into one written before key files: its key in `meta`, no key file, mode 0644. */
function asLegacyLedger(path: string, keyPath: string): PrivateKeyJwk {
  const jwk = readJwk(keyPath)
  unlinkSync(keyPath)
  const db = new Database(path)
  db.prepare("INSERT INTO meta (k, v) VALUES ('key', ?)").run(JSON.stringify(jwk))
  db.close()
  chmodSync(path, 0o644)
  return jwk
}

/** The ledger file's bytes with its WAL's, as someone who copies them would see them. */
function rawBytes(path: string): Buffer {
  return Buffer.concat(
    [path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  )
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error('expected a rejection')
  return err as { code: string; message: string }
}

describe('the checkpoint key file', () => {
  it('is made on first open beside the ledger as a 0600 private JWK, and the ledger file and WAL are 0600, whatever the umask', async () => {
    const dir = tmpDir()
    const path = join(dir, 'data', 'ledger.sqlite')
    // A worker thread cannot set the umask (the mutation runner runs tests on threads): there the
    // process's own umask stays, and the modes must still be 0600.
    const umask = isMainThread ? process.umask(0) : undefined
    let ledger: Ledger
    try {
      ledger = await open(path)
      await oneCall(ledger, 1)
    } finally {
      if (umask !== undefined) process.umask(umask)
    }
    expect(ledger.keyPath).toBe(`${path}.key`)
    expect(mode(`${path}.key`)).toBe(0o600)
    expect(readJwk(`${path}.key`)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ledger.keyId })
    expect(readJwk(`${path}.key`).d).toMatch(/^[\w-]{43}$/)
    expect(mode(path)).toBe(0o600)
    expect(mode(`${path}-wal`)).toBe(0o600)
    expect(mode(`${path}-shm`)).toBe(0o600)
    // The writer lock's file (empty: only its OS lock matters) is owner-only too.
    expect(mode(`${path}-writer`)).toBe(0o600)
    expect(readdirSync(join(dir, 'data')).sort()).toEqual([
      'ledger.sqlite',
      'ledger.sqlite-shm',
      'ledger.sqlite-wal',
      'ledger.sqlite-writer',
      'ledger.sqlite.key',
    ])
    expect(rawBytes(path).includes(readJwk(`${path}.key`).d)).toBe(false)
  })

  it('is read again on reopen: the same key id signs, and every checkpoint verifies against it', async () => {
    const { path, keyId } = await ledgerWithHistory()
    const ledger = await open(path, { checkpointEvery: 4 })
    expect(ledger.keyId).toBe(keyId)
    await oneCall(ledger, 9)
    await ledger.checkpoint()
    expect(await ledger.verify()).toMatchObject({ ok: true, keys: [keyId], keyId, pinned: false })
  })

  it('is used as found when it exists before the ledger (e.g. from `fmesh keys new --out`), never written over', async () => {
    const dir = tmpDir()
    const path = join(dir, 'ledger.sqlite')
    const mine = await generateSigner()
    const text = `${JSON.stringify(mine.exportJwk(), null, 2)}\n`
    writeFileSync(`${path}.key`, text, { mode: 0o600 })
    const ledger = await open(path)
    expect(ledger.keyId).toBe(mine.id)
    expect(readFileSync(`${path}.key`, 'utf8')).toBe(text)
  })

  it('lives at `keyPath` when given, and no key file is made for a passed signer', async () => {
    const dir = tmpDir()
    const keyPath = join(dir, 'keys', 'checkpoints.jwk')
    const a = await open(join(dir, 'a.sqlite'), { keyPath })
    expect(a.keyPath).toBe(keyPath)
    expect(readJwk(keyPath).kid).toBe(a.keyId)
    expect(mode(keyPath)).toBe(0o600)
    expect(existsSync(join(dir, 'a.sqlite.key'))).toBe(false)
    const signer = await generateSigner()
    const b = await open(join(dir, 'b.sqlite'), { signer })
    expect(b.keyId).toBe(signer.id)
    expect(b.keyPath).toBeUndefined()
    await oneCall(b, 1)
    await close(b)
    expect(readdirSync(dir).filter((f) => f.startsWith('b.'))).toEqual(['b.sqlite', 'b.sqlite-writer'])
  })

  it('error: a key file group or other may read or write is refused with E_LEDGER_KEY_PERMISSIONS, naming the chmod that fixes it', async () => {
    const { path, keyPath, keyId } = await ledgerWithHistory()
    for (const loose of [0o640, 0o604, 0o620, 0o602, 0o644, 0o666]) {
      chmodSync(keyPath, loose)
      const err = await rejection(openLedger({ path }))
      expect(err.code, loose.toString(8)).toBe('E_LEDGER_KEY_PERMISSIONS')
      expect(err.message).toContain(
        `The ledger key file ${keyPath} is mode 0${loose.toString(8)}: users other than its owner can read or change it`,
      )
      expect(err.message).toContain(`Run \`chmod 600 ${keyPath}\``)
      expect(mode(keyPath)).toBe(loose)
    }
    chmodSync(keyPath, 0o600)
    expect((await open(path)).keyId).toBe(keyId)
  })

  it('error: a ledger with entries whose key file is missing is refused, unchanged, rather than given a new key', async () => {
    const { dir, path, keyPath, keyId } = await ledgerWithHistory()
    const backup = join(dir, 'backup.key')
    copyFileSync(keyPath, backup)
    unlinkSync(keyPath)
    const before = readFileSync(path)
    const err = await rejection(openLedger({ path }))
    expect(err.code).toBe('E_LEDGER_KEY_MISSING')
    expect(err.message).toContain(`The ledger at ${path} has entries but its checkpoint key file is missing`)
    expect(err.message).toContain(`keyPath: ${keyPath}`)
    expect(err.message).toContain(`signedBy: ${keyId}`)
    expect(err.message).toContain(`Restore ${keyPath} from a backup`)
    expect(existsSync(keyPath)).toBe(false)
    expect(readFileSync(path).equals(before)).toBe(true)
    copyFileSync(backup, keyPath)
    const ledger = await open(path)
    expect(ledger.keyId).toBe(keyId)
    expect((await ledger.verify()).ok).toBe(true)
  })

  it('error: a key file that is not a private ed25519 JWK is refused with E_LEDGER_KEY_INVALID', async () => {
    const dir = tmpDir()
    const path = join(dir, 'ledger.sqlite')
    for (const [text, reason] of [
      ['not json', 'it is not JSON'],
      ['{"kty":"OKP","crv":"Ed25519","x":"abc"}', 'Not an ed25519 private key JWK'],
    ]) {
      writeFileSync(`${path}.key`, text!, { mode: 0o600 })
      const err = await rejection(openLedger({ path }))
      expect(err.code).toBe('E_LEDGER_KEY_INVALID')
      expect(err.message).toContain(`The ledger key file ${path}.key is not usable: ${reason}`)
      expect(readFileSync(`${path}.key`, 'utf8')).toBe(text)
    }
  })
})

describe('a ledger written before key files', () => {
  it('has its key moved out to the key file on open: same key id, old checkpoints verify, no key bytes left, file 0600', async () => {
    const { path, keyPath, keyId } = await ledgerWithHistory()
    const jwk = asLegacyLedger(path, keyPath)
    expect(rawBytes(path).includes(jwk.d)).toBe(true)
    const ledger = await open(path, { checkpointEvery: 4 })
    expect(ledger.keyId).toBe(keyId)
    expect(readJwk(keyPath)).toEqual(jwk)
    expect(mode(keyPath)).toBe(0o600)
    expect(mode(path)).toBe(0o600)
    expect(rawBytes(path).includes(jwk.d)).toBe(false)
    const report = await ledger.verify({ keyId })
    expect(report).toMatchObject({ ok: true, entries: 12, keys: [keyId], keyId, pinned: true })
    expect(report.checkpoints).toBeGreaterThanOrEqual(3)
    await oneCall(ledger, 7)
    await close(ledger)
    expect(rawBytes(path).includes(jwk.d)).toBe(false)
    const db = new Database(path, { readonly: true })
    expect(db.prepare("SELECT count(*) FROM meta WHERE k = 'key'").pluck().get()).toBe(0)
    db.close()
    const reopened = await open(path)
    expect(reopened.keyId).toBe(keyId)
    expect((await reopened.verify({ keyId })).ok).toBe(true)
  })

  it('error: one whose key file holds another key is refused with E_LEDGER_KEY_CONFLICT, unchanged', async () => {
    const { path, keyPath, keyId } = await ledgerWithHistory()
    const jwk = asLegacyLedger(path, keyPath)
    const other = await generateSigner()
    writeFileSync(keyPath, JSON.stringify(other.exportJwk()), { mode: 0o600 })
    const err = await rejection(openLedger({ path }))
    expect(err.code).toBe('E_LEDGER_KEY_CONFLICT')
    expect(err.message).toContain(`holds its checkpoint key ${keyId}, but the key file holds another key`)
    expect(err.message).toContain(`fileKeyId: ${other.id}`)
    expect(readJwk(keyPath).kid).toBe(other.id)
    const db = new Database(path, { readonly: true })
    expect(db.prepare("SELECT v FROM meta WHERE k = 'key'").pluck().get()).toBe(JSON.stringify(jwk))
    db.close()
  })
})

/** Re-signs every stored checkpoint with `signer`, as someone holding only the ledger file could. */
async function resignCheckpoints(path: string, signer: LocalSigner): Promise<void> {
  const db = new Database(path)
  const log = db.prepare("SELECT v FROM meta WHERE k = 'log'").pluck().get() as string
  const rows = db.prepare('SELECT tree_size, root, at FROM checkpoints').all() as {
    tree_size: number
    root: Buffer
    at: number
  }[]
  for (const row of rows) {
    const payload = checkpointPayload({
      log,
      treeSize: row.tree_size,
      root: row.root.toString('hex'),
      at: row.at,
      keyId: signer.id,
    })
    db.prepare('UPDATE checkpoints SET key_id = ?, body = ?, signature = ? WHERE tree_size = ?').run(
      signer.id,
      Buffer.from(payload),
      Buffer.from(await signer.sign(payload)),
      row.tree_size,
    )
  }
  db.close()
}

describe('verify against a pinned key', () => {
  it('reports the key it checked against and that nothing was pinned; `keyId` pins it', async () => {
    const { path, keyId } = await ledgerWithHistory()
    const ledger = await open(path)
    expect(await ledger.verify()).toMatchObject({ ok: true, keyId, pinned: false, keys: [keyId] })
    expect(await ledger.verify({ keyId })).toMatchObject({ ok: true, keyId, pinned: true })
    const other = await generateSigner()
    const report = await ledger.verify({ keyId: other.id })
    expect(report).toMatchObject({ ok: false, keyId: other.id, pinned: true, keys: [keyId] })
    expect(report.error?.code).toBe('E_LINEAGE_TAMPERED')
    expect(report.error?.message).toContain(
      `the checkpoint at tree size 4: it is signed by ${keyId}, not by the pinned key ${other.id}`,
    )
  })

  it('error: a keyId that is not an ed25519 did:key, bad options or an aborted signal are refused', async () => {
    const ledger = await open(join(tmpDir(), 'ledger.sqlite'))
    for (const keyId of ['did:key:z6MkOther', 'acme', 5]) {
      const err = await rejection(ledger.verify({ keyId: keyId as string }))
      expect(err.code).toBe('E_LEDGER_QUERY')
      expect(err.message).toContain('Invalid verify argument keyId: must be an ed25519 did:key')
    }
    expect((await rejection(ledger.verify(null as never))).code).toBe('E_LEDGER_QUERY')
    expect((await rejection(ledger.verify({ signal: AbortSignal.abort() }))).code).toBe('E_ABORTED')
  })

  it('error: checkpoints re-signed in place with a fresh key fail verify naming that key, with the key file or the pinned key id', async () => {
    const { path, keyId } = await ledgerWithHistory()
    const fresh = await generateSigner()
    await resignCheckpoints(path, fresh)
    const ledger = await open(path)
    const unpinned = await ledger.verify()
    expect(unpinned).toMatchObject({ ok: false, pinned: false, keys: [fresh.id] })
    expect(unpinned.error?.message).toContain(`it is signed by ${fresh.id}, not by the ledger's key ${keyId}`)
    const pinned = await ledger.verify({ keyId })
    expect(pinned.error?.message).toContain(`it is signed by ${fresh.id}, not by the pinned key ${keyId}`)
  })

  it('error: a copy of the ledger file rewritten with one charge changed and re-signed with a fresh key fails verify with the key file and with the pinned key id', async () => {
    const { dir, path, keyPath, keyId } = await ledgerWithHistory()
    const original = new Database(path, { readonly: true })
    const log = original.prepare("SELECT v FROM meta WHERE k = 'log'").pluck().get() as string
    original.close()
    // The forger holds only the ledger file: it writes the same log id and calls, one charge
    // changed, all consistent (ids, links, Merkle nodes, charge index), signed with its own key.
    const fresh = await generateSigner()
    const forged = join(dir, 'forged.sqlite')
    await close(await open(forged, { signer: fresh }))
    const db = new Database(forged)
    db.prepare("UPDATE meta SET v = ? WHERE k = 'log'").run(log)
    db.close()
    const forger = await open(forged, { signer: fresh, checkpointEvery: 4 })
    for (let i = 0; i < 6; i++) await oneCall(forger, i, 'ok', i === 2 ? 1n : 10n)
    await close(forger)
    copyFileSync(forged, path)

    const withKeyFile = await open(path)
    const report = await withKeyFile.verify()
    expect(report).toMatchObject({ ok: false, entries: 4, keyId, pinned: false, keys: [fresh.id] })
    expect(report.error?.message).toContain(
      `the checkpoint at tree size 4: it is signed by ${fresh.id}, not by the ledger's key ${keyId}`,
    )
    expect((await withKeyFile.verify({ keyId })).error?.message).toContain(
      `it is signed by ${fresh.id}, not by the pinned key ${keyId}`,
    )
    await close(withKeyFile)

    // With the key file replaced too, only the pinned key id catches the rewrite.
    unlinkSync(keyPath)
    writeFileSync(keyPath, JSON.stringify(fresh.exportJwk()), { mode: 0o600 })
    const replaced = await open(path)
    expect(await replaced.verify()).toMatchObject({ ok: true, keyId: fresh.id, pinned: false })
    const pinned = await replaced.verify({ keyId })
    expect(pinned).toMatchObject({ ok: false, pinned: true })
    expect(pinned.error?.message).toContain(`it is signed by ${fresh.id}, not by the pinned key ${keyId}`)
  })

  it('mesh.lineage.keyId() is the key file key, and mesh.lineage.verify({ keyId }) pins it', async () => {
    const dir = tmpDir()
    const mesh = closeAfter(await createMesh({ dataDir: dir }))
    try {
      upperFunction('7').register(mesh.marketplace)
      await mesh.call('acme.com/text/upper', { text: 'hi' })
      await mesh.lineage.checkpoint()
      const keyId = await mesh.lineage.keyId()
      expect(readJwk(join(dir, 'ledger.sqlite.key')).kid).toBe(keyId)
      expect(await mesh.lineage.verify({ keyId })).toMatchObject({ ok: true, keyId, pinned: true })
      const other = (await generateSigner()).id
      expect(await mesh.lineage.verify({ keyId: other })).toMatchObject({ ok: false, keyId: other })
    } finally {
      await mesh.close()
    }
  })
})
