import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { type Clock, systemClock } from '../clock.js'
import {
  LedgerClosedError,
  LedgerOpenError,
  LedgerQueryError,
  LedgerReadOnlyError,
  LineageEntryNotFoundError,
} from '../errors/ledger.js'
import { Checkpointer } from './_checkpointer.js'
import { EntryIndex } from './_entryIndex.js'
import { EntryRows } from './_entryRows.js'
import { GroupCommit } from './_groupCommit.js'
import { type LedgerKey, ledgerKey, readerKey } from './_ledgerKey.js'
import { waitForLock } from './_lockWait.js'
import { MerkleLog } from './_merkleLog.js'
import { checkInit, openFile } from './_openFile.js'
import { recoverOpenAttempts } from './_recover.js'
import { type Sealed, type StoredRow, sealEntry, sealedFromRow } from './_sealEntry.js'
import { DDL, prepareStatements, SCHEMA_VERSION, type Statements } from './_sql.js'
import type { WriterLock } from './_writerLock.js'
import { chargeColumns, chargeFor, lastChargeOrdinal, readCharge } from './charges.js'
import type { Checkpoint, InclusionProof } from './checkpoint.js'
import type {
  CompletedEntry,
  EntryFields,
  FailedEntry,
  InvokedEntry,
  LineageEntry,
  SealedEntry,
} from './entry.js'
import {
  type KeyClaim,
  type KeyFailure,
  type KeyRecord,
  readKey,
  writeClaim,
  writeKeyFailure,
  writeKeyResult,
} from './idempotencyKeys.js'
import { LeaseBook, type LeaseFacade, type Reservation } from './LeaseBook.js'
import { type RecentCall, type RecentCallsOptions, recentCalls } from './recentCalls.js'
import type { Charge, LedgerInit } from './types.js'
import { type UsageOptions, type UsageRow, usageOf } from './usage.js'
import { expectedKey, type VerifyOptions, type VerifyReport, verifyLedger } from './verifyLedger.js'

/** Entries between two signed checkpoints. @default 1024 */
export const DEFAULT_CHECKPOINT_EVERY = 1024

/** An attempt's FUNCTION_INVOKED as the ledger tracks it (recovered rows lack the write-time fields). */
type Attempt = SealedEntry & Partial<Pick<Sealed, 'open' | 'closed'>>
type Deferred = SealedEntry & { committed: Promise<void> }

const decoder = new TextDecoder()

/**
 * Opens (creating if needed) a ledger file, closes any call a crash left open, and returns it. With
 * `readOnly: true`, opens an existing file to read alongside its writer, without waiting for it.
 *
 * @example
 * ```ts
 * const ledger = await openLedger({ path: './data/ledger.sqlite' })
 * const report = await ledger.verify()
 * const reader = await openLedger({ path: './data/ledger.sqlite', readOnly: true })
 * const rows = await reader.usage({ by: 'provider' })
 * ```
 */
export async function openLedger(init: LedgerInit): Promise<Ledger> {
  const ledger = init.readOnly === true ? new Ledger(init) : await waitForLock(init, () => new Ledger(init))
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
 *
 * One writer per file (a lock held while open, see `WriterLock`), any number of read-only opens
 * beside it: each of their reads runs on the last committed snapshot.
 */
export class Ledger {
  readonly path: string
  /** Grants, reads and revokes leases (`mesh.leases`). */
  readonly leases: LeaseFacade
  /** Holds and releases lease budget; used by the invoker. */
  readonly leaseBook: LeaseBook
  /** Opened with `readOnly`: reads committed entries, refuses every write. */
  readonly readOnly: boolean
  private readonly db: Database.Database
  private readonly lock: WriterLock | undefined
  private readonly clock: Clock
  private readonly checkpointEvery: number
  private readonly merkle: MerkleLog
  private readonly writer: GroupCommit
  private readonly st: Statements
  private lastId: string | null
  private logId = ''
  private key: LedgerKey | undefined
  private checkpoints: Checkpointer | undefined
  private readonly ids: EntryIndex
  private readonly rows: EntryRows
  /** Charges written or queued so far: the next one's ordinal is this plus one. */
  private charges: number
  private closed = false

  constructor(private readonly init: LedgerInit) {
    this.checkpointEvery = checkInit(init, DEFAULT_CHECKPOINT_EVERY)
    this.path = init.path
    this.clock = init.clock ?? systemClock
    this.readOnly = init.readOnly === true
    const opened = openFile(init)
    this.db = opened.db
    this.lock = opened.lock
    try {
      // A reader takes its starting state from one snapshot (the writer may commit meanwhile).
      this.db.exec(this.readOnly ? 'BEGIN DEFERRED' : DDL)
      this.st = prepareStatements(this.db)
      this.leaseBook = new LeaseBook(this.db, this.clock)
      const last = this.st.lastEntry.get() as { seq: number; id: string } | undefined
      this.lastId = last?.id ?? null
      this.ids = new EntryIndex(this.st, last === undefined ? 0 : last.seq + 1)
      this.merkle = new MerkleLog(this.st, this.ids.written)
      this.charges = lastChargeOrdinal(this.st)
      if (this.readOnly) this.db.exec('COMMIT')
    } catch (err) {
      this.db.close()
      this.lock?.release()
      throw new LedgerOpenError(init.path, (err as Error).message, err)
    }
    const rows = new EntryRows(this.db, this.ids)
    this.rows = rows
    const txn = this.db.transaction((batch: readonly { write: () => void }[]) => {
      for (const op of batch) op.write()
      return rows.flush()
    })
    this.writer = new GroupCommit(
      this.path,
      (batch) => this.ids.committed(txn.immediate(batch)),
      () => rows.clear(),
    )
    this.leases = this.leaseBook.facade(
      (write) => this.writer.enqueue(write),
      () => this.assertWritable('change a lease'),
    )
  }

  /** Sets up the checkpoint key (see `LedgerInit.keyPath`) and closes calls a crash left open. */
  async start(): Promise<void> {
    this.logId = (this.st.getMeta.get('log') as { v: string } | undefined)?.v ?? randomUUID()
    if (this.readOnly) {
      this.key = await readerKey(this.db, this.init)
      const refuse = () => Promise.reject(new LedgerReadOnlyError(this.path, 'sign a checkpoint'))
      this.checkpoints = new Checkpointer(this.st, this.logId, this.key.signer, this.checkpointEvery, refuse)
      return
    }
    this.key = await ledgerKey(this.db, this.init)
    this.st.setMeta.run('schema', String(SCHEMA_VERSION))
    this.st.setMeta.run('log', this.logId)
    this.checkpoints = new Checkpointer(this.st, this.logId, this.key.signer, this.checkpointEvery, (write) =>
      this.writer.enqueue(write),
    )
    await recoverOpenAttempts(this, this.st, (write) => this.writer.enqueue(write))
  }

  /** The ledger key's `did:key`: checkpoints verify against it. Publish it to pin it in `verify`. */
  get keyId(): string {
    return this.key!.signer.id
  }

  /** The file holding the checkpoint key; `undefined` when a `signer` was passed. */
  get keyPath(): string | undefined {
    return this.key?.keyPath
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
  async invoked(fields: EntryFields<InvokedEntry>, claim?: KeyClaim): Promise<SealedEntry> {
    const sealed = this.invokedDeferred(fields, claim, false)
    await sealed.committed
    return sealed
  }

  /**
   * Appends FUNCTION_INVOKED without waiting for it to commit. Its write is queued in log order, so
   * it always commits before (or with) the attempt's terminal entry: used where running the provider
   * before the entry is on disk is safe (an idempotent in-process call without a key, whose caller
   * gets no result unless both entries committed, and which may run again by its class).
   */
  invokedDeferred(fields: EntryFields<InvokedEntry>, claim?: KeyClaim, lazy = true): Deferred {
    this.assertWritable('record a call')
    const sealed = this.seal('FUNCTION_INVOKED', fields)
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
   * for the idempotency key, all in one transaction. `fields` becomes the entry's fields: `invoked`
   * and `charge` are added to it in place, so pass an object made for this entry.
   */
  async completed(
    invoked: SealedEntry,
    fields: Omit<EntryFields<CompletedEntry>, 'invoked' | 'charge'>,
    bill: { currency: string | null; amount: bigint; quantity: bigint; reservation?: Reservation },
    key?: { principal: string; key: string; output: Uint8Array },
  ): Promise<{ entry: SealedEntry; charge: Charge }> {
    this.assertWritable('record a call')
    const attempt = invoked as Attempt
    attempt.closed = true
    const amount = bill.amount.toString()
    // The fields object is the invoker's own, made for this entry: completing it in place spares a
    // copy (an object spread of ~15 keys costs ~3 us in V8 12).
    const entryFields = fields as Record<string, unknown>
    entryFields.invoked = invoked.id
    entryFields.charge = { amount, currency: bill.currency }
    const sealed = this.seal('FUNCTION_COMPLETED', entryFields)
    const settle =
      bill.reservation === undefined ? undefined : this.leaseBook.settle(bill.reservation, bill.amount)
    const charge = chargeFor(sealed.id, bill, bill.reservation?.lease)
    sealed.charge = chargeColumns(++this.charges, fields, charge, sealed.at)
    await this.writer.enqueue(() => {
      this.insert(sealed)
      if (attempt.open === true) this.st.closeAttempt.run(invoked.seq)
      settle?.()
      if (key !== undefined) writeKeyResult(this.st, key, sealed.id)
    })
    return { entry: sealed, charge }
  }

  /**
   * Appends FUNCTION_FAILED for an attempt (`invoked` is added to `fields` in place, as in
   * {@link completed}) and releases its reservation. With `key`, also settles the
   * idempotency key: `release` frees it (nothing reached a provider), otherwise the failure is stored.
   */
  async failed(
    invoked: SealedEntry,
    fields: Omit<EntryFields<FailedEntry>, 'invoked'>,
    reservation?: Reservation,
    key?: KeyFailure,
  ): Promise<SealedEntry> {
    this.assertWritable('record a call')
    const attempt = invoked as Attempt
    attempt.closed = true
    const entryFields = fields as Record<string, unknown>
    entryFields.invoked = invoked.id
    const sealed = this.seal('FUNCTION_FAILED', entryFields)
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
    this.assertWritable('record a call')
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
    const row = this.ids.find(entryId)
    if (row === undefined) throw new LineageEntryNotFoundError(String(entryId))
    return sealedFromRow(entryId, row.seq, row.body)
  }

  /** Every committed entry of one call (all its attempts), in log order. */
  async lineage(invocation: string): Promise<SealedEntry[]> {
    await this.sync()
    const rows = this.st.entriesByInvocation.all(invocation, this.ids.indexed, invocation) as StoredRow[]
    return rows.map((r) => sealedFromRow(r.id, r.seq, r.body))
  }

  /** The charge of a FUNCTION_COMPLETED entry, if committed. */
  chargeOf(entryId: string): Charge | undefined {
    const found = this.ids.find(entryId)
    if (found === undefined) return undefined
    return readCharge(this.st, entryId, found.seq)
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
    let checkpoint = this.checkpoints!.latest
    if (checkpoint === undefined || checkpoint.treeSize <= sealed.seq) checkpoint = await this.checkpoint()
    const path = this.merkle
      .inclusionPath(sealed.seq, checkpoint.treeSize)
      .map((h) => Buffer.from(h).toString('hex'))
    return { entryId, entry: decoder.decode(sealed.bytes), leafIndex: sealed.seq, path, checkpoint }
  }

  /** Signs and stores a checkpoint of the whole log now (or returns the one at the current size). */
  async checkpoint(): Promise<Checkpoint> {
    this.assertOpen()
    const latest = this.checkpoints!.latest
    if (latest !== undefined && latest.treeSize === this.merkle.size) {
      await this.sync()
      return latest
    }
    if (this.readOnly) throw new LedgerReadOnlyError(this.path, 'sign a checkpoint')
    return this.checkpoints!.make(this.merkle.size, this.root, this.clock.now())
  }

  /**
   * Re-checks the whole log from its stored bytes: every entry's id, canonical form, position and link
   * to the one before, every leaf hash and stored Merkle node, every checkpoint root and signature,
   * and that each FUNCTION_COMPLETED has exactly the one charge it states and no charge lacks its
   * entry. Reports the first thing that does not check out, naming the entry. Checkpoints must be
   * signed by `options.keyId` (pin the key id you published), else by the ledger's own key.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const key = expectedKey(options, this.keyId)
    await this.sync()
    // A reader checks one snapshot: the writer may commit between two of its statements.
    if (this.readOnly) return this.db.transaction(() => verifyLedger(this.db, this.logId, key)).deferred()
    return verifyLedger(this.db, this.logId, key)
  }

  /** Charges summed per provider, function or principal (and currency), exactly, as bigints. */
  async usage(options: UsageOptions): Promise<UsageRow[]> {
    await this.sync()
    return usageOf(this.db, options, this.ids.indexed)
  }

  /** The newest calls (every attempt of each invocation summarised), from committed entries. */
  async recent(options: RecentCallsOptions = {}): Promise<RecentCall[]> {
    await this.sync()
    return recentCalls(this.st, options)
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
    if (this.readOnly) return this.closeNow()
    try {
      const behind = (this.checkpoints?.lastSize ?? this.merkle.size) < this.merkle.size
      if (this.writer.broken === undefined && behind) await this.checkpoint()
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
    this.lock?.release()
  }

  private seal(type: LineageEntry['type'], fields: object): Sealed {
    const sealed = sealEntry(
      type,
      fields as Readonly<Record<string, unknown>>,
      this.merkle.size,
      this.lastId,
      this.clock.now(),
    )
    sealed.nodes = this.merkle.append(sealed.leaf)
    this.lastId = sealed.id
    const checkpoints = this.checkpoints
    if (checkpoints?.due(this.merkle.size))
      void checkpoints.make(this.merkle.size, this.root, this.clock.now()).catch(() => {})
    return sealed
  }

  private insert(sealed: Sealed): void {
    this.rows.add(sealed)
    if (sealed.nodes.length > 0) this.merkle.writeNodes(sealed.seq, sealed.nodes)
  }

  private assertWritable(action: string): void {
    this.assertOpen()
    if (this.readOnly) throw new LedgerReadOnlyError(this.path, action)
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerClosedError(this.path)
    if (this.writer.broken !== undefined) throw this.writer.broken
  }
}
