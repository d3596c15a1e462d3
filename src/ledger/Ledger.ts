import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { type Clock, systemClock } from '../clock.js'
import {
  LedgerClosedError,
  LedgerLockedError,
  LedgerOpenError,
  LedgerQueryError,
  LineageEntryNotFoundError,
} from '../errors/ledger.js'
import { generateSigner, importSigner, type PrivateKeyJwk, type Signer } from '../trust/signer.js'
import { GroupCommit } from './_groupCommit.js'
import { MerkleLog } from './_merkleLog.js'
import { type Sealed, sealEntry } from './_sealEntry.js'
import { DDL, ID_INDEX_LAG, prepareStatements, SCHEMA_VERSION, type Statements } from './_sql.js'
import { type Checkpoint, checkpointPayload, type InclusionProof } from './checkpoint.js'
import type { CompletedEntry, FailedEntry, InvokedEntry, LineageEntry, SealedEntry } from './entry.js'
import {
  type KeyClaim,
  type KeyFailure,
  type KeyRecord,
  readKey,
  writeClaim,
  writeKeyFailure,
  writeKeyResult,
} from './idempotencyKeys.js'
import { LeaseBook, type LeaseGrant, type LeaseInfo, type Reservation } from './LeaseBook.js'
import { type UsageOptions, type UsageRow, usageOf } from './usage.js'
import { type VerifyReport, verifyLedger } from './verifyLedger.js'

export type { KeyClaim, KeyRecord } from './idempotencyKeys.js'

/** Entries between two signed checkpoints. @default 1024 */
export const DEFAULT_CHECKPOINT_EVERY = 1024

/** How the ledger is opened. */
export interface LedgerInit {
  /** The SQLite file (created with its directory if missing). `:memory:` keeps it in memory (tests only). */
  path: string
  /** The key that signs checkpoints. By default a key is made on first open and kept in the ledger file. */
  signer?: Signer
  /** @default DEFAULT_CHECKPOINT_EVERY */
  checkpointEvery?: number
  /**
   * `normal`: WAL with synchronous=NORMAL, a committed batch survives a process crash (the OS holds
   * it) and the WAL is synced at checkpoints; `full`: every batch commit is also synced to disk, which
   * also survives power loss. @default 'normal'
   */
  durability?: 'normal' | 'full'
  clock?: Clock
}

/** The charge written with a FUNCTION_COMPLETED entry. Amounts are integer base units. */
export interface Charge {
  /** The FUNCTION_COMPLETED entry id the charge belongs to. */
  readonly entry: string
  /** `null` when the provider is free. */
  readonly currency: string | null
  readonly amount: bigint
  readonly quantity: bigint
  readonly lease?: string
}

type Fields<T extends LineageEntry> = Omit<T, 'v' | 'type' | 'seq' | 'prev' | 'at'>
type Unseal<E> = E extends LineageEntry ? Omit<E, 'v' | 'seq' | 'prev' | 'at'> : never
type Unsealed = Unseal<LineageEntry>
/** An attempt's FUNCTION_INVOKED as the ledger tracks it (recovered rows lack the write-time fields). */
type Attempt = SealedEntry & Partial<Pick<Sealed, 'open' | 'closed'>>

const decoder = new TextDecoder()

/**
 * Opens (creating if needed) a ledger file, closes any call a crash left open, and returns it.
 *
 * @example
 * ```ts
 * const ledger = await openLedger({ path: './data/ledger.sqlite' })
 * const report = await ledger.verify()
 * ```
 */
export async function openLedger(init: LedgerInit): Promise<Ledger> {
  const ledger = new Ledger(init)
  try {
    await ledger.start()
  } catch (err) {
    ledger.closeNow()
    throw err
  }
  return ledger
}

/**
 * The durable ledger: lineage entries in an append-only Merkle log with signed checkpoints, charges,
 * idempotency records and lease balances, in one SQLite file with one writer.
 *
 * Writes are group-committed (see `GroupCommit`): N calls in flight cost one commit, and a caller's
 * promise settles only after the transaction holding its write committed. In WAL mode with
 * synchronous=NORMAL a commit is a write to the WAL (no fsync), durable against process crashes;
 * `durability: 'full'` syncs each batch.
 */
export class Ledger {
  readonly path: string
  readonly leases: {
    grant(grant: LeaseGrant): Promise<LeaseInfo>
    get(id: string): LeaseInfo
    revoke(id: string): Promise<void>
  }
  /** Holds and releases lease budget; used by the invoker. */
  readonly leaseBook: LeaseBook
  private readonly db: Database.Database
  private readonly clock: Clock
  private readonly checkpointEvery: number
  private readonly merkle: MerkleLog
  private readonly writer: GroupCommit
  private readonly st: Statements
  private lastId: string | null
  private logId = ''
  private signer: Signer | undefined
  private lastCheckpointSize = 0
  private latestCheckpoint: Checkpoint | undefined
  private checkpointing: Promise<Checkpoint> | undefined
  /** Entries written to the file (committed, or in the transaction being run). */
  private written: number
  /** Entries below this seq are in the `entry_ids` index. */
  private indexed: number
  private closed = false

  constructor(private readonly init: LedgerInit) {
    if (init === null || typeof init !== 'object' || typeof init.path !== 'string' || init.path === '')
      throw new LedgerOpenError(String(init?.path), '`path` must be a file path')
    const every = init.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY
    if (!Number.isSafeInteger(every) || every < 1)
      throw new LedgerOpenError(init.path, '`checkpointEvery` must be a positive integer')
    this.path = init.path
    this.clock = init.clock ?? systemClock
    this.checkpointEvery = every
    this.db = openFile(init)
    try {
      const version = this.db.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get() as
        | string
        | undefined
      if (version !== undefined && Number(version) !== SCHEMA_VERSION)
        throw new LedgerOpenError(
          this.path,
          `written with ledger schema ${version}, this version reads schema ${SCHEMA_VERSION}`,
        )
    } catch (err) {
      // A new file has no meta table yet.
      if (err instanceof LedgerOpenError) {
        this.db.close()
        throw err
      }
    }
    try {
      this.db.exec(DDL)
      this.st = prepareStatements(this.db)
      this.leaseBook = new LeaseBook(this.db, this.clock)
      const last = this.st.lastEntry.get() as { seq: number; id: string } | undefined
      this.lastId = last?.id ?? null
      this.written = last === undefined ? 0 : last.seq + 1
      this.indexed = Number(this.meta('indexed') ?? 0)
      this.merkle = new MerkleLog(this.st, this.written)
    } catch (err) {
      this.db.close()
      throw new LedgerOpenError(init.path, (err as Error).message, err)
    }
    const txn = this.db.transaction((batch: readonly { write: () => void }[]) => {
      for (const op of batch) op.write()
      if (this.written - this.indexed >= ID_INDEX_LAG) {
        this.st.indexIds.run(this.indexed, this.written)
        this.st.setMeta.run('indexed', String(this.written))
        return this.written
      }
      return undefined
    })
    this.writer = new GroupCommit(this.path, (batch) => {
      const indexed = txn.immediate(batch)
      if (indexed !== undefined) this.indexed = indexed
    })
    const book = this.leaseBook
    this.leases = {
      grant: async (grant) => {
        this.assertOpen()
        const { info, write } = book.prepareGrant(grant)
        await this.writer.enqueue(write)
        return info
      },
      get: (id) => book.get(id),
      revoke: async (id) => {
        this.assertOpen()
        await this.writer.enqueue(book.prepareRevoke(id))
      },
    }
  }

  /** Sets up the checkpoint key and closes calls a crash left open. */
  async start(): Promise<void> {
    this.logId = this.meta('log') ?? randomUUID()
    if (this.init.signer !== undefined) {
      this.signer = this.init.signer
    } else {
      const stored = this.meta('key')
      const signer =
        stored === undefined
          ? await generateSigner()
          : await importSigner(JSON.parse(stored) as PrivateKeyJwk)
      if (stored === undefined) this.st.setMeta.run('key', JSON.stringify(signer.exportJwk()))
      this.signer = signer
    }
    this.st.setMeta.run('schema', String(SCHEMA_VERSION))
    this.st.setMeta.run('log', this.logId)
    const cp = this.st.lastCheckpoint.get() as
      | { tree_size: number; at: number; key_id: string; root: Buffer; signature: Buffer }
      | undefined
    if (cp !== undefined) {
      this.lastCheckpointSize = cp.tree_size
      this.latestCheckpoint = {
        log: this.logId,
        treeSize: cp.tree_size,
        root: cp.root.toString('hex'),
        at: cp.at,
        keyId: cp.key_id,
        signature: cp.signature.toString('base64url'),
      }
    }
    await this.recover()
  }

  /** The ledger key's `did:key`: checkpoints verify against it. */
  get keyId(): string {
    return this.signer!.id
  }

  /** Entries appended so far (including writes still in the current batch). */
  get size(): number {
    return this.merkle.size
  }

  /** The current Merkle root (hex) over every appended entry. */
  get root(): string {
    return Buffer.from(this.merkle.tree.root()).toString('hex')
  }

  // ---------------------------------------------------------------- calls

  /** Appends FUNCTION_INVOKED (and claims the idempotency key); resolves once committed. */
  async invoked(fields: Fields<InvokedEntry>, claim?: KeyClaim): Promise<SealedEntry> {
    const sealed = this.invokedDeferred(fields, claim, false)
    await sealed.committed
    return sealed
  }

  /**
   * Appends FUNCTION_INVOKED without waiting for it to commit. Its write is queued in log order, so
   * it always commits before (or with) the attempt's terminal entry: used where running the provider
   * before the entry is on disk is safe (an idempotent in-process call without a key, whose caller
   * gets no result unless both entries committed).
   */
  invokedDeferred(
    fields: Fields<InvokedEntry>,
    claim?: KeyClaim,
    lazy = true,
  ): SealedEntry & { committed: Promise<void> } {
    this.assertOpen()
    const sealed = this.seal({ ...fields, type: 'FUNCTION_INVOKED' })
    const committed = this.writer.enqueue(() => {
      this.insert(sealed)
      // An attempt whose terminal entry commits in the same batch never needs recovery.
      if (!sealed.closed) {
        this.st.openAttempt.run(sealed.seq)
        sealed.open = true
      }
      if (claim !== undefined) writeClaim(this.st, claim, sealed.at)
    }, lazy)
    committed.catch(() => {})
    return Object.assign(sealed, { committed })
  }

  /**
   * Appends FUNCTION_COMPLETED with its charge, settles the lease reservation and stores the result
   * for the idempotency key, all in one transaction.
   */
  async completed(
    invoked: SealedEntry,
    fields: Omit<Fields<CompletedEntry>, 'invoked' | 'charge'>,
    bill: { currency: string | null; amount: bigint; quantity: bigint; reservation?: Reservation },
    key?: { principal: string; key: string; output: Uint8Array },
  ): Promise<{ entry: SealedEntry; charge: Charge }> {
    this.assertOpen()
    const attempt = invoked as Attempt
    attempt.closed = true
    const amount = bill.amount.toString()
    const sealed = this.seal({
      ...fields,
      type: 'FUNCTION_COMPLETED',
      invoked: invoked.id,
      charge: { amount, currency: bill.currency },
    })
    const settle =
      bill.reservation === undefined ? undefined : this.leaseBook.settle(bill.reservation, bill.amount)
    const lease = bill.reservation?.lease
    await this.writer.enqueue(() => {
      this.insert(sealed)
      if (attempt.open === true) this.st.closeAttempt.run(invoked.seq)
      this.st.insertCharge.run(
        sealed.seq,
        fields.invocation,
        fields.function,
        fields.version,
        fields.provider,
        fields.principal,
        lease ?? null,
        bill.currency,
        amount,
        bill.quantity.toString(),
        sealed.at,
      )
      settle?.()
      if (key !== undefined) writeKeyResult(this.st, key, sealed.id)
    })
    const charge: Charge =
      lease === undefined
        ? { entry: sealed.id, currency: bill.currency, amount: bill.amount, quantity: bill.quantity }
        : { entry: sealed.id, currency: bill.currency, amount: bill.amount, quantity: bill.quantity, lease }
    return { entry: sealed, charge }
  }

  /**
   * Appends FUNCTION_FAILED for an attempt and releases its reservation. With `key`, also settles the
   * idempotency key: `release` frees it (nothing reached a provider), otherwise the failure is stored.
   */
  async failed(
    invoked: SealedEntry,
    fields: Omit<Fields<FailedEntry>, 'invoked'>,
    reservation?: Reservation,
    key?: KeyFailure,
  ): Promise<SealedEntry> {
    this.assertOpen()
    const attempt = invoked as Attempt
    attempt.closed = true
    const sealed = this.seal({ ...fields, type: 'FUNCTION_FAILED', invoked: invoked.id })
    if (reservation !== undefined) this.leaseBook.release(reservation)
    await this.writer.enqueue(() => {
      this.insert(sealed)
      if (attempt.open === true) this.st.closeAttempt.run(invoked.seq)
      if (key !== undefined) writeKeyFailure(this.st, key, fields.error)
    })
    return sealed
  }

  /** Settles an idempotency key without a lineage entry (the call stopped between attempts). */
  async finishKey(key: KeyFailure, error: { code: string; message: string }): Promise<void> {
    this.assertOpen()
    await this.writer.enqueue(() => writeKeyFailure(this.st, key, error))
  }

  /** The stored state of an idempotency key, from committed writes. */
  lookupKey(principal: string, key: string): KeyRecord | undefined {
    this.assertOpen()
    return readKey(this.st, principal, key)
  }

  /** A committed entry by id. */
  async entry(entryId: string): Promise<SealedEntry> {
    await this.sync()
    const row = this.find(entryId)
    if (row === undefined) throw new LineageEntryNotFoundError(String(entryId))
    return sealedFromRow(entryId, row.seq, row.body)
  }

  /** Every committed entry of one call (all its attempts), in log order. */
  async lineage(invocation: string): Promise<SealedEntry[]> {
    await this.sync()
    const rows = this.st.entriesByInvocation.all(invocation) as { seq: number; id: string; body: Buffer }[]
    return rows.map((r) => sealedFromRow(r.id, r.seq, r.body))
  }

  /** The charge of a FUNCTION_COMPLETED entry, if committed. */
  chargeOf(entryId: string): Charge | undefined {
    const found = this.find(entryId)
    if (found === undefined) return undefined
    const row = this.st.chargeByEntry.get(found.seq) as
      | { currency: string | null; amount: string; quantity: string; lease: string | null }
      | undefined
    if (row === undefined) return undefined
    return {
      entry: entryId,
      currency: row.currency,
      amount: BigInt(row.amount),
      quantity: BigInt(row.quantity),
      ...(row.lease === null ? {} : { lease: row.lease }),
    }
  }

  // ---------------------------------------------------------------- audit

  /**
   * An inclusion proof for an entry against a signed checkpoint (the latest one that covers the entry;
   * one is signed now if none does yet), read from the stored Merkle nodes in O(log n). Check it with
   * {@link verifyInclusion}.
   */
  async proof(entryId: string): Promise<InclusionProof> {
    if (typeof entryId !== 'string')
      throw new LedgerQueryError('proof', 'entryId', 'must be a string', entryId)
    const sealed = await this.entry(entryId)
    let checkpoint = this.latestCheckpoint
    if (checkpoint === undefined || checkpoint.treeSize <= sealed.seq) checkpoint = await this.checkpoint()
    const path = this.merkle
      .inclusionPath(sealed.seq, checkpoint.treeSize)
      .map((h) => Buffer.from(h).toString('hex'))
    return { entryId, entry: decoder.decode(sealed.bytes), leafIndex: sealed.seq, path, checkpoint }
  }

  /** Signs and stores a checkpoint of the whole log now (or returns the one at the current size). */
  async checkpoint(): Promise<Checkpoint> {
    this.assertOpen()
    if (this.latestCheckpoint !== undefined && this.latestCheckpoint.treeSize === this.merkle.size) {
      await this.sync()
      return this.latestCheckpoint
    }
    return this.makeCheckpoint()
  }

  /**
   * Re-checks the whole log from its stored bytes: every entry's id, canonical form, position and link
   * to the one before, every leaf hash and stored Merkle node, every checkpoint root and signature,
   * and that each FUNCTION_COMPLETED has exactly the one charge it states and no charge lacks its
   * entry. Reports the first thing that does not check out, naming the entry.
   */
  async verify(): Promise<VerifyReport> {
    await this.sync()
    return verifyLedger(this.db, this.logId)
  }

  /** Charges summed per provider, function or principal (and currency), exactly, as bigints. */
  async usage(options: UsageOptions): Promise<UsageRow[]> {
    await this.sync()
    return usageOf(this.db, options)
  }

  /** Resolves once every write queued so far has committed. */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (!this.writer.pending) {
      if (this.writer.broken !== undefined) return Promise.reject(this.writer.broken)
      return Promise.resolve()
    }
    return this.writer.enqueue(() => {})
  }

  /** Commits what is queued, writes a final checkpoint if the log grew, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      if (this.writer.broken === undefined && this.merkle.size > this.lastCheckpointSize)
        await this.checkpoint()
      await this.sync()
    } finally {
      this.closeNow()
    }
  }

  /** Closes the file without waiting for anything. */
  closeNow(): void {
    if (this.closed) return
    this.closed = true
    this.writer?.close()
    if (this.db.open) this.db.close()
  }

  // ---------------------------------------------------------------- internals

  private seal(fields: Unsealed): Sealed {
    const sealed = sealEntry(
      fields as unknown as Record<string, unknown>,
      this.merkle.size,
      this.lastId,
      this.clock.now(),
    )
    sealed.nodes = this.merkle.append(sealed.leaf)
    this.lastId = sealed.id
    if (
      this.merkle.size - this.lastCheckpointSize >= this.checkpointEvery &&
      this.checkpointing === undefined
    ) {
      void this.makeCheckpoint().catch(() => {})
    }
    return sealed
  }

  private insert(sealed: Sealed): void {
    this.st.insertEntry.run(sealed.seq, sealed.id, sealed.type, sealed.invocation, sealed.bytes, sealed.leaf)
    if (sealed.nodes.length > 0) this.merkle.writeNodes(sealed.seq, sealed.nodes)
    this.written = sealed.seq + 1
  }

  /** A committed entry's row by id: through the id index, then among the entries it does not cover yet. */
  private find(entryId: string): { seq: number; body: Buffer } | undefined {
    if (typeof entryId !== 'string') return undefined
    return (this.st.entryByIndexedId.get(entryId, entryId) ??
      this.st.entryByRecentId.get(this.indexed, entryId)) as { seq: number; body: Buffer } | undefined
  }

  private makeCheckpoint(): Promise<Checkpoint> {
    const treeSize = this.merkle.size
    const root = this.root
    const at = this.clock.now()
    const signer = this.signer!
    this.lastCheckpointSize = treeSize
    const unsigned = { log: this.logId, treeSize, root, at, keyId: signer.id }
    const run = (async () => {
      const payload = checkpointPayload(unsigned)
      const signature = await signer.sign(payload)
      const checkpoint: Checkpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64url') }
      await this.writer.enqueue(() => {
        this.st.insertCheckpoint.run(
          treeSize,
          Buffer.from(root, 'hex'),
          at,
          signer.id,
          Buffer.from(payload),
          Buffer.from(signature),
        )
      })
      if (this.latestCheckpoint === undefined || this.latestCheckpoint.treeSize < treeSize)
        this.latestCheckpoint = checkpoint
      return checkpoint
    })()
    this.checkpointing = run
    const clear = () => {
      if (this.checkpointing === run) this.checkpointing = undefined
    }
    run.then(clear, clear)
    return run
  }

  /** Closes every attempt a crash left without a terminal entry, and every key it left pending. */
  private async recover(): Promise<void> {
    const open = this.st.openAttempts.all() as { id: string; seq: number; body: Buffer }[]
    const writes: Promise<unknown>[] = []
    for (const row of open) {
      const invoked: Attempt = Object.assign(sealedFromRow(row.id, row.seq, row.body), { open: true })
      const e = invoked.entry as InvokedEntry
      writes.push(
        this.failed(invoked, {
          invocation: e.invocation,
          attempt: e.attempt,
          function: e.function,
          version: e.version,
          provider: e.provider,
          principal: e.principal,
          error: {
            code: 'E_INTERRUPTED',
            message: 'The ledger was closed (crash or kill) before this attempt finished; closed on reopen',
          },
          sent: true,
          durationMs: 0,
          recovered: true,
        }),
      )
    }
    writes.push(
      this.writer.enqueue(() => {
        this.st.failPendingKeys.run(
          JSON.stringify({
            code: 'E_INTERRUPTED',
            message: 'The ledger was closed (crash or kill) before this call finished',
            sent: true,
          }),
        )
      }),
    )
    await Promise.all(writes)
  }

  private meta(key: string): string | undefined {
    return (this.st.getMeta.get(key) as { v: string } | undefined)?.v
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerClosedError(this.path)
    if (this.writer.broken !== undefined) throw this.writer.broken
  }
}

/** Opens the SQLite file with one exclusive writer in WAL mode. */
function openFile(init: LedgerInit): Database.Database {
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
  return db
}

function sealedFromRow(id: string, seq: number, body: Buffer): SealedEntry {
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return { id, seq, bytes, entry: JSON.parse(decoder.decode(bytes)) as LineageEntry }
}
