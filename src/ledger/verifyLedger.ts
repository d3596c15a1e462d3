import type Database from 'better-sqlite3'
import { throwIfAborted } from '../abort.js'
import { canonicalJsonBytes } from '../encoding/canonicalJson.js'
import { jsonCid } from '../encoding/jsonCid.js'
import { LedgerQueryError, LineageTamperedError } from '../errors/ledger.js'
import { publicKeyFromKeyId } from '../trust/signer.js'
import { NODE_MIN_LEVEL, nodeKey } from './_merkleLog.js'
import { verifyCheckpoint } from './checkpoint.js'
import type { CompletedEntry, LineageEntry } from './entry.js'
import { CompactTree, equalBytes, leafHash } from './merkle.js'

/** What `verify()` takes. */
export interface VerifyOptions {
  /**
   * The `did:key` every checkpoint must be signed by: the ledger's key id as you published it
   * (`fmesh lineage key`). Pinning it catches a copy of the ledger rewritten and re-signed with
   * another key, even one whose key file was replaced too.
   * @default the ledger's own key (its key file's key, or the `signer` passed)
   */
  keyId?: string
  signal?: AbortSignal
}

/** What `verify()` found. `ok` is false as soon as one thing does not check out; `error` names it. */
export interface VerifyReport {
  readonly ok: boolean
  /** Entries checked (up to the first bad one). */
  readonly entries: number
  readonly completed: number
  readonly charges: number
  readonly checkpoints: number
  /** The Merkle root (hex) over the entries checked. */
  readonly root: string
  /** The keys (`did:key`) that signed the checkpoints: compare them with the ledger key you expect. */
  readonly keys: readonly string[]
  /** The key every checkpoint had to be signed by: the pinned `keyId`, else the ledger's own key. */
  readonly keyId: string
  /**
   * Whether `keyId` was pinned by the caller. `false`: the checkpoints were checked against the
   * ledger's own key file, which whoever can replace that file also controls; pin the key id you
   * published to catch a re-signed copy.
   */
  readonly pinned: boolean
  readonly error?: LineageTamperedError
}

interface Row {
  seq: number
  id: string
  type: string
  invocation: string
  body: Buffer
  leaf: Buffer
  charge_no: number | null
  function: string | null
  version: string | null
  provider: string | null
  principal: string | null
  lease: string | null
  currency: string | null
  amount: string | null
  quantity: string | null
  charged_at: number | null
}

const CHARGE_COLUMNS = [
  'charge_no',
  'function',
  'version',
  'provider',
  'principal',
  'lease',
  'currency',
  'amount',
  'quantity',
  'charged_at',
] as const

interface CheckpointRow {
  tree_size: number
  root: Buffer
  at: number
  key_id: string
  signature: Buffer
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The key checkpoints must be signed by: `options.keyId` (checked) if given, else the ledger's own. */
export function expectedKey(options: VerifyOptions, ownKeyId: string): ExpectedKey {
  if (options === null || typeof options !== 'object')
    throw new LedgerQueryError('verify', 'options', 'must be { keyId?, signal? }', options)
  throwIfAborted(options.signal, 'ledger verify')
  const { keyId } = options
  if (keyId === undefined) return { id: ownKeyId, pinned: false }
  if (typeof keyId !== 'string' || publicKeyFromKeyId(keyId) === undefined)
    throw new LedgerQueryError('verify', 'keyId', 'must be an ed25519 did:key (did:key:z6Mk...)', keyId)
  return { id: keyId, pinned: true }
}

/** The key every checkpoint must be signed by, and whether the caller pinned it. */
export interface ExpectedKey {
  readonly id: string
  readonly pinned: boolean
}

/** Re-checks a ledger database from its stored bytes; see `Ledger.verify`. */
export function verifyLedger(db: Database.Database, logId: string, key: ExpectedKey): VerifyReport {
  const tree = new CompactTree()
  const checkpoints = db
    .prepare('SELECT tree_size, root, at, key_id, signature FROM checkpoints ORDER BY tree_size')
    .all() as CheckpointRow[]
  // Stored interior Merkle nodes (what proofs are read from), walked in step with the recomputed ones.
  const nodes = (
    db.prepare('SELECT k, hash FROM nodes ORDER BY k').raw().iterate() as IterableIterator<[number, Buffer]>
  )[Symbol.iterator]()
  let nextNode = nodes.next()
  const completedNodes: Uint8Array[] = []
  const open = new Map<string, { invocation: string; attempt: number; lease: string | null }>()
  let prev: string | null = null
  let completed = 0
  let charges = 0
  let checked = 0
  let nextCheckpoint = 0
  const report = (error?: LineageTamperedError): VerifyReport => {
    nodes.return?.()
    return summary(error)
  }
  const summary = (error?: LineageTamperedError): VerifyReport => ({
    ok: error === undefined,
    entries: tree.size,
    completed,
    charges,
    checkpoints: checked,
    root: Buffer.from(tree.root()).toString('hex'),
    keys: [...new Set(checkpoints.map((c) => c.key_id))],
    keyId: key.id,
    pinned: key.pinned,
    ...(error === undefined ? {} : { error }),
  })

  for (const row of db
    .prepare(
      `SELECT seq, id, type, invocation, body, leaf, ${CHARGE_COLUMNS.join(', ')} FROM entries ORDER BY seq`,
    )
    .iterate() as Iterable<Row>) {
    const where = { seq: row.seq, entryId: row.id }
    const bad = (reason: string) =>
      report(new LineageTamperedError(`entry ${row.seq} (${row.id})`, reason, where))
    if (row.seq !== tree.size)
      return report(
        new LineageTamperedError(
          `entry ${tree.size}`,
          `missing: the log jumps from seq ${tree.size - 1} to ${row.seq}`,
          {
            seq: tree.size,
          },
        ),
      )
    const bytes = new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength)
    let entry: LineageEntry
    try {
      entry = JSON.parse(utf8.decode(bytes)) as LineageEntry
    } catch {
      return bad('the stored bytes are not JSON')
    }
    let canonical: Uint8Array
    try {
      canonical = canonicalJsonBytes(entry)
    } catch {
      return bad('the stored JSON has no canonical form')
    }
    if (!equalBytes(canonical, bytes)) return bad('the stored bytes are not in canonical (RFC 8785) form')
    if (jsonCid(bytes) !== row.id) return bad('the content does not match its id (CID)')
    if (entry === null || typeof entry !== 'object') return bad('the entry is not an object')
    if (entry.seq !== row.seq) return bad(`the entry states seq ${String(entry.seq)}`)
    if (entry.prev !== prev) return bad(`the entry does not link to the entry before it (${prev ?? 'none'})`)
    if (entry.type !== row.type || entry.invocation !== row.invocation)
      return bad('the index columns (type, invocation) disagree with the entry')
    const leaf = leafHash(bytes)
    if (!equalBytes(leaf, row.leaf)) return bad('the stored leaf hash does not match the entry')
    if (row.charge_no !== null) charges++
    if (entry.type === 'FUNCTION_INVOKED') {
      open.set(row.id, { invocation: entry.invocation, attempt: entry.attempt, lease: entry.lease ?? null })
    } else if (entry.type === 'FUNCTION_COMPLETED' || entry.type === 'FUNCTION_FAILED') {
      const attempt = open.get(entry.invoked)
      if (attempt === undefined)
        return bad(`it closes ${String(entry.invoked)}, which is not an open attempt`)
      if (attempt.invocation !== entry.invocation || attempt.attempt !== entry.attempt)
        return bad('its invocation or attempt differs from the FUNCTION_INVOKED it closes')
      open.delete(entry.invoked)
      if (entry.type === 'FUNCTION_COMPLETED') {
        completed++
        const problem = chargeProblem(row, entry, attempt.lease, completed)
        if (problem !== undefined) return bad(problem)
      }
    } else {
      return bad(`unknown entry type ${String((entry as { type: unknown }).type)}`)
    }
    if (entry.type !== 'FUNCTION_COMPLETED' && CHARGE_COLUMNS.some((c) => row[c] !== null))
      return bad(`a charge is recorded on this ${entry.type} entry: no FUNCTION_COMPLETED entry has that seq`)
    completedNodes.length = 0
    tree.append(leaf, completedNodes)
    for (let level = NODE_MIN_LEVEL; level <= completedNodes.length; level++) {
      const key = nodeKey(level, row.seq)
      while (!nextNode.done && nextNode.value[0] < key) nextNode = nodes.next()
      if (nextNode.done || nextNode.value[0] !== key)
        return bad(`the stored Merkle node of level ${level} ending at this entry is missing`)
      if (!equalBytes(nextNode.value[1], completedNodes[level - 1]!))
        return bad(`the stored Merkle node of level ${level} ending at this entry does not match the entries`)
      nextNode = nodes.next()
    }
    prev = row.id
    while (nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.tree_size <= tree.size) {
      const cp = checkpoints[nextCheckpoint]!
      const problem = checkCheckpoint(cp, tree, logId, key)
      if (problem !== undefined)
        return report(
          new LineageTamperedError(`the checkpoint at tree size ${cp.tree_size}`, problem, {
            treeSize: cp.tree_size,
            seq: row.seq,
            entryId: row.id,
          }),
        )
      checked++
      nextCheckpoint++
    }
  }
  while (nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.tree_size === tree.size) {
    const cp = checkpoints[nextCheckpoint]!
    const problem = checkCheckpoint(cp, tree, logId, key)
    if (problem !== undefined)
      return report(
        new LineageTamperedError(`the checkpoint at tree size ${cp.tree_size}`, problem, {
          treeSize: cp.tree_size,
        }),
      )
    checked++
    nextCheckpoint++
  }
  if (nextCheckpoint < checkpoints.length) {
    const cp = checkpoints[nextCheckpoint]!
    return report(
      new LineageTamperedError(
        `the checkpoint at tree size ${cp.tree_size}`,
        `it covers ${cp.tree_size} entries but the log holds ${tree.size}: entries were removed`,
        { treeSize: cp.tree_size, seq: tree.size },
      ),
    )
  }
  const index = usageIndexProblem(db)
  if (index !== undefined) return report(index)
  return report()
}

/** What is wrong with a FUNCTION_COMPLETED row's charge columns, given its entry and ordinal. */
function chargeProblem(
  row: Row,
  entry: CompletedEntry,
  lease: string | null,
  ordinal: number,
): string | undefined {
  if (row.charge_no === null || row.amount === null) return 'this FUNCTION_COMPLETED entry has no charge'
  if (row.currency !== entry.charge?.currency || row.amount !== entry.charge?.amount)
    return `its charge (${row.amount} ${row.currency ?? ''}) differs from what the entry states (${String(entry.charge?.amount)} ${entry.charge?.currency ?? ''})`
  if (row.charge_no !== ordinal)
    return `its charge is numbered ${row.charge_no}, but it is charge ${ordinal} of the log`
  if (
    row.quantity !== entry.quantity ||
    row.function !== entry.function ||
    row.version !== entry.version ||
    row.provider !== entry.provider ||
    row.principal !== entry.principal ||
    row.charged_at !== entry.at ||
    row.lease !== lease
  )
    return 'its charge columns (quantity, function, version, provider, principal, time, lease) disagree with the entry'
  return undefined
}

/**
 * The compact usage index (`charge_index`, refreshed in bulk) against the charge columns it copies:
 * one row per charged entry below `meta.indexed`, each equal to its entry's columns.
 */
function usageIndexProblem(db: Database.Database): LineageTamperedError | undefined {
  const indexed = Number((db.prepare("SELECT v FROM meta WHERE k = 'indexed'").pluck().get() as string) ?? 0)
  const wrong = db
    .prepare(
      'SELECT c.entry AS entry, e.id AS id FROM charge_index c LEFT JOIN entries e ON e.seq = c.entry WHERE e.charge_no IS NULL OR c.entry >= ? OR c.at IS NOT e.charged_at OR c.function IS NOT e.function OR c.provider IS NOT e.provider OR c.principal IS NOT e.principal OR c.currency IS NOT e.currency OR c.amount IS NOT e.amount LIMIT 1',
    )
    .get(indexed) as { entry: unknown; id: string | null } | undefined
  if (wrong !== undefined)
    return new LineageTamperedError(
      `the usage index row for entry ${String(wrong.entry)}${wrong.id === null ? '' : ` (${wrong.id})`}`,
      'it differs from the charge of that entry, or no FUNCTION_COMPLETED entry has that seq',
      wrong.id === null ? {} : { entryId: wrong.id },
    )
  const copied = (db.prepare('SELECT count(*) FROM charge_index').pluck().get() as number) ?? 0
  const charged = db
    .prepare('SELECT count(*) FROM entries WHERE seq < ? AND charge_no IS NOT NULL')
    .pluck()
    .get(indexed) as number
  if (copied !== charged)
    return new LineageTamperedError(
      'the usage index (charge_index)',
      `it holds ${copied} charges where the entries below seq ${indexed} hold ${charged}: rows were removed`,
      {},
    )
  return undefined
}

function checkCheckpoint(
  cp: CheckpointRow,
  tree: CompactTree,
  logId: string,
  key: ExpectedKey,
): string | undefined {
  if (cp.tree_size !== tree.size) return `no entry boundary at size ${cp.tree_size}`
  const root = Buffer.from(tree.root())
  if (!root.equals(cp.root)) return 'the root over the stored entries differs from the signed root'
  if (cp.key_id !== key.id)
    return `it is signed by ${cp.key_id}, not by the ${key.pinned ? 'pinned key' : "ledger's key"} ${key.id}`
  const valid = verifyCheckpoint(
    {
      log: logId,
      treeSize: cp.tree_size,
      root: cp.root.toString('hex'),
      at: cp.at,
      keyId: cp.key_id,
      signature: cp.signature.toString('base64url'),
    },
    key.id,
  )
  return valid ? undefined : 'the signature does not verify with the ledger key'
}
