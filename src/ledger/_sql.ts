import type Database from 'better-sqlite3'

/** Bumped when the tables change shape; a ledger written by another version is refused. */
export const SCHEMA_VERSION = 3

/**
 * Entries after the last refresh of the lookup indexes (`entry_ids`, `invocation_index`,
 * `charge_index`) that a lookup scans instead. The indexes are refreshed in bulk, sorted, every this
 * many entries, so a call's commit touches only the tables it appends to and never inserts at a
 * random place in a b-tree keyed by a hash. @default 4096
 */
export const ID_INDEX_LAG = 4096

/**
 * The ledger's tables. Money is decimal text (exact, any size), never REAL. `entries.body` holds the
 * canonical JSON bytes that the entry id (a CID) and the Merkle leaf hash cover; every other column
 * is an index over facts the body already states, so `verify()` can check them against it.
 *
 * A charge is part of its FUNCTION_COMPLETED row (`charge_no`, its ordinal from 1 in log order, and
 * the columns after it; NULL on every other row): the entry and its charge are one row, so they
 * commit together by construction, and a call's commit writes one b-tree page where a separate
 * charges table cost a second (~5.5 us of a ~16 us commit, measured). The view `charges` reads them.
 *
 * Every row a call writes lands at the end of its b-tree: entries, interior Merkle nodes and open
 * attempts are keyed by the entry's integer `seq`. The lookup indexes (`entry_ids`: a prefix of the
 * CID's digest -> seq; `invocation_index`; `charge_index`: a compact copy of the charges keyed by
 * time, for usage) are refreshed in sorted bulk every {@link ID_INDEX_LAG} entries; lookups scan the
 * entries after `meta.indexed` directly.
 *
 * `nodes` holds the hash of every complete subtree of 16 or more leaves of the RFC 9162 tree, keyed
 * by `lastLeaf * 64 + level` (so nodes are appended in the order they complete): inclusion proofs
 * and the tree state on open are O(log n) reads.
 */
export const DDL = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  invocation TEXT NOT NULL,
  body BLOB NOT NULL,
  leaf BLOB NOT NULL,
  charge_no INTEGER,
  function TEXT,
  version TEXT,
  provider TEXT,
  principal TEXT,
  lease TEXT,
  currency TEXT,
  amount TEXT,
  quantity TEXT,
  charged_at INTEGER
);
CREATE VIEW IF NOT EXISTS charges AS
  SELECT seq AS entry, charge_no AS id, invocation, function, version, provider, principal, lease,
    currency, amount, quantity, charged_at AS at
  FROM entries WHERE charge_no IS NOT NULL;
CREATE TABLE IF NOT EXISTS invocation_index (invocation TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (invocation, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_ids (epoch INTEGER NOT NULL, k TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (epoch, k, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (k INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS open_attempts (seq INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS charge_index (
  at INTEGER NOT NULL,
  entry INTEGER NOT NULL,
  function TEXT NOT NULL,
  provider TEXT NOT NULL,
  principal TEXT NOT NULL,
  currency TEXT,
  amount TEXT NOT NULL,
  PRIMARY KEY (at, entry)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
  principal TEXT NOT NULL,
  key TEXT NOT NULL,
  function TEXT NOT NULL,
  input_cid TEXT NOT NULL,
  invocation TEXT NOT NULL,
  state TEXT NOT NULL,
  result BLOB,
  at INTEGER NOT NULL,
  PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  id TEXT PRIMARY KEY,
  capabilities TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balances (
  lease TEXT NOT NULL,
  currency TEXT NOT NULL,
  budget TEXT NOT NULL,
  spent TEXT NOT NULL,
  PRIMARY KEY (lease, currency)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  at INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  body BLOB NOT NULL,
  signature BLOB NOT NULL
);
`

/**
 * `entry_ids` is partitioned by epoch: the entries `[e * 2^ID_EPOCH_BITS, (e + 1) * 2^ID_EPOCH_BITS)`.
 * CIDs are random, so an index keyed by CID alone takes each bulk refresh to random pages all over
 * it: past ~500k entries a refresh of 4096 ids dirtied thousands of pages (about one 4 KiB page per
 * entry, written to the WAL and checkpointed), and durable calls/s fell from 25k to 14k by 2M
 * entries. Keyed by (epoch, CID prefix), a refresh touches only the current epoch's at most ~370
 * pages, whatever the size of the log; a lookup probes each epoch (a ledger of 10M entries has 153).
 * @default 16
 */
export const ID_EPOCH_BITS = 16

/** The part of a CID the `entry_ids` index keys on: 12 base32 characters (60 bits) of its digest. */
export const ID_KEY_SQL = 'substr(?, 10, 12)'

const SQL = {
  getMeta: 'SELECT v FROM meta WHERE k = ?',
  setMeta: 'INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
  lastEntry: 'SELECT seq, id FROM entries ORDER BY seq DESC LIMIT 1',
  /** Every entry from the newest back, for `recentCalls` (which stops reading when it has enough). */
  entriesNewestFirst: 'SELECT id, invocation, body FROM entries ORDER BY seq DESC',
  insertNode: 'INSERT INTO nodes (k, hash) VALUES (?, ?)',
  node: 'SELECT hash FROM nodes WHERE k = ?',
  leaf: 'SELECT leaf FROM entries WHERE seq = ?',
  leaves: 'SELECT leaf FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq',
  /** Indexed entries whose CID shares the looked-up prefix (the id itself is compared too). */
  /** Params: the last indexed epoch, the id, the id. */
  entryByIndexedId: `WITH RECURSIVE epochs(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM epochs WHERE n < ?) SELECT e.seq AS seq, e.body AS body FROM epochs JOIN entry_ids x ON x.epoch = epochs.n AND x.k = ${ID_KEY_SQL} JOIN entries e ON e.seq = x.seq WHERE e.id = ?`,
  /** The entries the id index does not cover yet (at most ID_INDEX_LAG of them, plus a batch). */
  entryByRecentId: 'SELECT seq, body FROM entries WHERE seq >= ? AND id = ?',
  indexIds: `INSERT INTO entry_ids (epoch, k, seq) SELECT seq >> ${ID_EPOCH_BITS}, substr(id, 10, 12), seq FROM entries WHERE seq >= ? AND seq < ? ORDER BY 1, 2, 3`,
  /** Params: invocation, indexed bound, invocation. */
  entriesByInvocation:
    'SELECT e.seq AS seq, e.id AS id, e.body AS body FROM invocation_index x JOIN entries e ON e.seq = x.seq WHERE x.invocation = ? UNION ALL SELECT seq, id, body FROM entries WHERE seq >= ? AND invocation = ? ORDER BY 1',
  indexInvocations:
    'INSERT INTO invocation_index (invocation, seq) SELECT invocation, seq FROM entries WHERE seq >= ? AND seq < ? ORDER BY 1, 2',
  indexCharges:
    'INSERT INTO charge_index (at, entry, function, provider, principal, currency, amount) SELECT charged_at, seq, function, provider, principal, currency, amount FROM entries WHERE seq >= ? AND seq < ? AND charge_no IS NOT NULL ORDER BY 1, 2',
  openAttempt: 'INSERT INTO open_attempts (seq) VALUES (?)',
  closeAttempt: 'DELETE FROM open_attempts WHERE seq = ?',
  openAttempts:
    'SELECT e.id AS id, e.seq AS seq, e.body AS body FROM open_attempts o JOIN entries e ON e.seq = o.seq ORDER BY o.seq',
  /** The ordinal of the newest charge. */
  lastChargeId: 'SELECT charge_no FROM entries WHERE charge_no IS NOT NULL ORDER BY seq DESC LIMIT 1',
  chargeByEntry:
    'SELECT currency, amount, quantity, lease FROM entries WHERE seq = ? AND charge_no IS NOT NULL',
  getKey:
    'SELECT function, input_cid, invocation, state, result FROM idempotency WHERE principal = ? AND key = ?',
  claimKey:
    "INSERT OR REPLACE INTO idempotency (principal, key, function, input_cid, invocation, state, result, at) VALUES (?, ?, ?, ?, ?, 'pending', NULL, ?)",
  finishKey: 'UPDATE idempotency SET state = ?, result = ? WHERE principal = ? AND key = ?',
  deleteKey: 'DELETE FROM idempotency WHERE principal = ? AND key = ?',
  failPendingKeys: "UPDATE idempotency SET state = 'failed', result = ? WHERE state = 'pending'",
  insertCheckpoint:
    'INSERT OR REPLACE INTO checkpoints (tree_size, root, at, key_id, body, signature) VALUES (?, ?, ?, ?, ?, ?)',
  lastCheckpoint:
    'SELECT tree_size, root, at, key_id, signature FROM checkpoints ORDER BY tree_size DESC LIMIT 1',
}

/** The ledger's prepared statements, by name. */
export type Statements = { readonly [K in keyof typeof SQL]: Database.Statement }

/** Prepares every statement once per open; `leaf`, `leaves` and `node` return bare hashes. */
export function prepareStatements(db: Database.Database): Statements {
  const out: Record<string, Database.Statement> = {}
  for (const [name, sql] of Object.entries(SQL)) out[name] = db.prepare(sql)
  out.leaf!.pluck()
  out.node!.pluck()
  out.leaves!.pluck()
  out.lastChargeId!.pluck()
  return out as Statements
}
