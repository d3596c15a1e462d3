import type Database from 'better-sqlite3'
import { LineageTamperedError } from '../errors/ledger.js'
import { canonicalBytes, recordId } from '../record/codec.js'
import { NODE_MIN_LEVEL, nodeKey } from './_merkleLog.js'
import { verifyCheckpoint } from './checkpoint.js'
import type { LineageEntry } from './entry.js'
import { CompactTree, equalBytes, leafHash } from './merkle.js'

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
  readonly error?: LineageTamperedError
}

interface Row {
  seq: number
  id: string
  type: string
  invocation: string
  body: Buffer
  leaf: Buffer
}

interface CheckpointRow {
  tree_size: number
  root: Buffer
  at: number
  key_id: string
  signature: Buffer
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Re-checks a ledger database from its stored bytes; see `Ledger.verify`. */
export function verifyLedger(db: Database.Database, logId: string, keyId?: string): VerifyReport {
  const tree = new CompactTree()
  const checkpoints = db
    .prepare('SELECT tree_size, root, at, key_id, signature FROM checkpoints ORDER BY tree_size')
    .all() as CheckpointRow[]
  const chargeOf = db.prepare('SELECT currency, amount FROM charges WHERE entry = ?')
  // Stored interior Merkle nodes (what proofs are read from), walked in step with the recomputed ones.
  const nodes = (
    db.prepare('SELECT k, hash FROM nodes ORDER BY k').raw().iterate() as IterableIterator<[number, Buffer]>
  )[Symbol.iterator]()
  let nextNode = nodes.next()
  const completedNodes: Uint8Array[] = []
  const open = new Map<string, { invocation: string; attempt: number }>()
  let prev: string | null = null
  let completed = 0
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
    charges: (db.prepare('SELECT count(*) AS n FROM charges').get() as { n: number }).n,
    checkpoints: checked,
    root: Buffer.from(tree.root()).toString('hex'),
    keys: [...new Set(checkpoints.map((c) => c.key_id))],
    ...(error === undefined ? {} : { error }),
  })

  for (const row of db
    .prepare('SELECT seq, id, type, invocation, body, leaf FROM entries ORDER BY seq')
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
      canonical = canonicalBytes(entry)
    } catch {
      return bad('the stored JSON has no canonical form')
    }
    if (!equalBytes(canonical, bytes)) return bad('the stored bytes are not in canonical (RFC 8785) form')
    if (recordId(bytes) !== row.id) return bad('the content does not match its id (CID)')
    if (entry === null || typeof entry !== 'object') return bad('the entry is not an object')
    if (entry.seq !== row.seq) return bad(`the entry states seq ${String(entry.seq)}`)
    if (entry.prev !== prev) return bad(`the entry does not link to the entry before it (${prev ?? 'none'})`)
    if (entry.type !== row.type || entry.invocation !== row.invocation)
      return bad('the index columns (type, invocation) disagree with the entry')
    const leaf = leafHash(bytes)
    if (!equalBytes(leaf, row.leaf)) return bad('the stored leaf hash does not match the entry')
    if (entry.type === 'FUNCTION_INVOKED') {
      open.set(row.id, { invocation: entry.invocation, attempt: entry.attempt })
    } else if (entry.type === 'FUNCTION_COMPLETED' || entry.type === 'FUNCTION_FAILED') {
      const attempt = open.get(entry.invoked)
      if (attempt === undefined)
        return bad(`it closes ${String(entry.invoked)}, which is not an open attempt`)
      if (attempt.invocation !== entry.invocation || attempt.attempt !== entry.attempt)
        return bad('its invocation or attempt differs from the FUNCTION_INVOKED it closes')
      open.delete(entry.invoked)
      if (entry.type === 'FUNCTION_COMPLETED') {
        completed++
        const charge = chargeOf.get(row.seq) as { currency: string | null; amount: string } | undefined
        if (charge === undefined) return bad('this FUNCTION_COMPLETED entry has no charge')
        if (charge.currency !== entry.charge?.currency || charge.amount !== entry.charge?.amount)
          return bad(
            `its charge (${charge.amount} ${charge.currency ?? ''}) differs from what the entry states (${String(entry.charge?.amount)} ${entry.charge?.currency ?? ''})`,
          )
      }
    } else {
      return bad(`unknown entry type ${String((entry as { type: unknown }).type)}`)
    }
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
      const problem = checkCheckpoint(cp, tree, logId, keyId)
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
    const problem = checkCheckpoint(cp, tree, logId, keyId)
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
  const orphan = db
    .prepare(
      "SELECT c.entry AS entry, e.id AS id FROM charges c LEFT JOIN entries e ON e.seq = c.entry WHERE e.seq IS NULL OR e.type != 'FUNCTION_COMPLETED' LIMIT 1",
    )
    .get() as { entry: unknown; id: string | null } | undefined
  if (orphan !== undefined)
    return report(
      new LineageTamperedError(
        `the charge for entry ${String(orphan.entry)}${orphan.id === null ? '' : ` (${orphan.id})`}`,
        'no FUNCTION_COMPLETED entry has that seq',
        orphan.id === null ? {} : { entryId: orphan.id },
      ),
    )
  return report()
}

function checkCheckpoint(
  cp: CheckpointRow,
  tree: CompactTree,
  logId: string,
  keyId?: string,
): string | undefined {
  if (cp.tree_size !== tree.size) return `no entry boundary at size ${cp.tree_size}`
  const root = Buffer.from(tree.root())
  if (!root.equals(cp.root)) return 'the root over the stored entries differs from the signed root'
  const valid = verifyCheckpoint(
    {
      log: logId,
      treeSize: cp.tree_size,
      root: cp.root.toString('hex'),
      at: cp.at,
      keyId: cp.key_id,
      signature: cp.signature.toString('base64url'),
    },
    keyId,
  )
  return valid ? undefined : 'the signature does not verify with the ledger key'
}
