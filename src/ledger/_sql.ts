/** Bumped when the tables change shape; a ledger written by a newer version is refused. */
export const SCHEMA_VERSION = 1

/**
 * The ledger's tables. Money is decimal text (exact, any size), never REAL. `entries.body` holds the
 * canonical JSON bytes that the entry id (a CID) and the Merkle leaf hash cover; every other column
 * is an index over facts the body already states, so `verify()` can check them against it.
 */
export const DDL = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  invocation TEXT NOT NULL,
  body BLOB NOT NULL,
  leaf BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_invocation ON entries(invocation);
CREATE TABLE IF NOT EXISTS open_attempts (invoked TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS charges (
  id INTEGER PRIMARY KEY,
  entry TEXT NOT NULL UNIQUE,
  invocation TEXT NOT NULL,
  function TEXT NOT NULL,
  version TEXT NOT NULL,
  provider TEXT NOT NULL,
  principal TEXT NOT NULL,
  lease TEXT,
  currency TEXT,
  amount TEXT NOT NULL,
  quantity TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_at ON charges(at);
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
