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
  LedgerWriteError,
  LineageEntryNotFoundError,
} from '../errors/ledger.js'
import { generateSigner, importSigner, type PrivateKeyJwk, type Signer } from '../trust/signer.js'
import { canonicalJson, fastCid } from './_cid.js'
import { DDL, SCHEMA_VERSION } from './_sql.js'
import { type Checkpoint, checkpointPayload, type InclusionProof } from './checkpoint.js'
import type { CompletedEntry, FailedEntry, InvokedEntry, LineageEntry, SealedEntry } from './entry.js'
import { compact } from './entry.js'
import { LeaseBook, type LeaseGrant, type LeaseInfo, type Reservation } from './LeaseBook.js'
import { CompactTree, inclusionPath, leafHash } from './merkle.js'
import { type UsageOptions, type UsageRow, usageOf } from './usage.js'
import { type VerifyReport, verifyLedger } from './verifyLedger.js'

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

/** An idempotency key's stored state. */
export type KeyRecord =
  | {
      readonly state: 'pending'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
    }
  | {
      readonly state: 'completed'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
      /** The FUNCTION_COMPLETED entry. */
      readonly completed: string
      /** The stored output's canonical JSON. */
      readonly output: string
    }
  | {
      readonly state: 'failed'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
      readonly error: { readonly code: string; readonly message: string }
      /** Whether the request may have reached a provider. */
      readonly sent: boolean
    }

/** Claims an idempotency key for a call: the row is written with the first FUNCTION_INVOKED. */
export interface KeyClaim {
  readonly principal: string
  readonly key: string
  readonly function: string
  readonly inputCid: string
  readonly invocation: string
}

type Fields<T extends LineageEntry> = Omit<T, 'v' | 'type' | 'seq' | 'prev' | 'at'>
type Unseal<E> = E extends LineageEntry ? Omit<E, 'v' | 'seq' | 'prev' | 'at'> : never
type Unsealed = Unseal<LineageEntry>

/** A FUNCTION_INVOKED entry while its attempt runs: `closed` once its terminal entry is queued, `open` once its open_attempts row is written. */
type Attempt = SealedEntry & { closed?: boolean; open?: boolean }

interface QueuedWrite {
  write: () => void
  resolve: () => void
  reject: (err: unknown) => void
}

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
 * Writes are group-committed: every write is queued and a microtask later the whole queue commits in
 * one transaction, so N calls in flight cost one commit, not N. A caller's promise settles only after
 * the transaction holding its write committed. In WAL mode with synchronous=NORMAL a commit is a
 * write to the WAL (no fsync), durable against process crashes; `durability: 'full'` syncs each batch.
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
  private readonly tree: CompactTree
  private lastId: string | null
  private logId = ''
  private signer: Signer | undefined
  private lastCheckpointSize = 0
  private latestCheckpoint: Checkpoint | undefined
  private checkpointing: Promise<Checkpoint> | undefined
  private queue: QueuedWrite[] = []
  private scheduled = false
  private broken: LedgerWriteError | undefined
  private closed = false
  private readonly runBatch: (batch: QueuedWrite[]) => void
  private readonly st: ReturnType<typeof prepare>

  constructor(private readonly init: LedgerInit) {
    if (init === null || typeof init !== 'object' || typeof init.path !== 'string' || init.path === '')
      throw new LedgerOpenError(String(init?.path), '`path` must be a file path')
    const every = init.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY
    if (!Number.isSafeInteger(every) || every < 1)
      throw new LedgerOpenError(init.path, '`checkpointEvery` must be a positive integer')
    this.path = init.path
    this.clock = init.clock ?? systemClock
    this.checkpointEvery = every
    try {
      if (init.path !== ':memory:') mkdirSync(dirname(init.path), { recursive: true })
      this.db = new Database(init.path, { timeout: 1000 })
    } catch (err) {
      throw new LedgerOpenError(init.path, (err as Error).message, err)
    }
    try {
      this.db.pragma('locking_mode = EXCLUSIVE')
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${init.durability === 'full' ? 'FULL' : 'NORMAL'}`)
      this.db.pragma('cache_size = -65536')
      this.db.exec('BEGIN IMMEDIATE; COMMIT')
    } catch (err) {
      this.db.close()
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
        throw new LedgerLockedError(init.path, err)
      throw new LedgerOpenError(init.path, (err as Error).message, err)
    }
    try {
      this.db.exec(DDL)
      this.st = prepare(this.db)
      this.leaseBook = new LeaseBook(this.db, this.clock)
    } catch (err) {
      this.db.close()
      throw new LedgerOpenError(init.path, (err as Error).message, err)
    }
    const last = this.st.lastEntry.get() as { seq: number; id: string } | undefined
    this.lastId = last?.id ?? null
    this.tree = this.loadTree(last === undefined ? 0 : last.seq + 1)
    const txn = this.db.transaction((batch: QueuedWrite[]) => {
      for (const op of batch) op.write()
      this.st.setMeta.run('tree', treeState(this.tree))
    })
    this.runBatch = (batch) => txn.immediate(batch)
    const book = this.leaseBook
    this.leases = {
      grant: async (grant) => {
        this.assertOpen()
        const { info, write } = book.prepareGrant(grant)
        await this.enqueue(write)
        return info
      },
      get: (id) => book.get(id),
      revoke: async (id) => {
        this.assertOpen()
        await this.enqueue(book.prepareRevoke(id))
      },
    }
  }

  /** Sets up the checkpoint key and closes calls a crash left open. */
  async start(): Promise<void> {
    const version = this.meta('schema')
    if (version !== undefined && Number(version) > SCHEMA_VERSION)
      throw new LedgerOpenError(this.path, `written by a newer version (schema ${version})`)
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
    return this.tree.size
  }

  /** The current Merkle root (hex) over every appended entry. */
  get root(): string {
    return Buffer.from(this.tree.root()).toString('hex')
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
    const sealed = this.seal({ ...fields, type: 'FUNCTION_INVOKED' }) as Attempt
    const now = sealed.entry.at
    const committed = this.enqueue(() => {
      this.insert(sealed)
      // An attempt whose terminal entry commits in the same batch never needs recovery.
      if (!sealed.closed) {
        this.st.openAttempt.run(sealed.id, sealed.seq)
        sealed.open = true
      }
      if (claim !== undefined)
        this.st.claimKey.run(
          claim.principal,
          claim.key,
          claim.function,
          claim.inputCid,
          claim.invocation,
          now,
        )
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
    ;(invoked as Attempt).closed = true
    const sealed = this.seal({
      ...fields,
      type: 'FUNCTION_COMPLETED',
      invoked: invoked.id,
      charge: { currency: bill.currency, amount: bill.amount.toString() },
    })
    const settle =
      bill.reservation === undefined ? undefined : this.leaseBook.settle(bill.reservation, bill.amount)
    const lease = bill.reservation?.lease
    const e = sealed.entry
    await this.enqueue(() => {
      this.insert(sealed)
      if ((invoked as Attempt).open === true) this.st.closeAttempt.run(invoked.id)
      this.st.insertCharge.run(
        sealed.id,
        e.invocation,
        e.function,
        e.version,
        e.provider,
        e.principal,
        lease ?? null,
        bill.currency,
        bill.amount.toString(),
        bill.quantity.toString(),
        e.at,
      )
      settle?.()
      if (key !== undefined) {
        const result = `{"completed":${JSON.stringify(sealed.id)},"output":${decoder.decode(key.output)}}`
        this.st.finishKey.run('completed', result, key.principal, key.key)
      }
    })
    const charge: Charge = {
      entry: sealed.id,
      currency: bill.currency,
      amount: bill.amount,
      quantity: bill.quantity,
      ...(lease === undefined ? {} : { lease }),
    }
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
    key?: { principal: string; key: string; release: boolean; sent: boolean },
  ): Promise<SealedEntry> {
    this.assertOpen()
    ;(invoked as Attempt).closed = true
    const sealed = this.seal({ ...fields, type: 'FUNCTION_FAILED', invoked: invoked.id })
    if (reservation !== undefined) this.leaseBook.release(reservation)
    await this.enqueue(() => {
      this.insert(sealed)
      if ((invoked as Attempt).open === true) this.st.closeAttempt.run(invoked.id)
      if (key !== undefined) this.writeKeyFailure(key, fields.error)
    })
    return sealed
  }

  /** Settles an idempotency key without a lineage entry (the call stopped between attempts). */
  async finishKey(
    key: { principal: string; key: string; release: boolean; sent: boolean },
    error: { code: string; message: string },
  ): Promise<void> {
    this.assertOpen()
    await this.enqueue(() => this.writeKeyFailure(key, error))
  }

  /** The stored state of an idempotency key, from committed writes. */
  lookupKey(principal: string, key: string): KeyRecord | undefined {
    this.assertOpen()
    const row = this.st.getKey.get(principal, key) as
      | { function: string; input_cid: string; invocation: string; state: string; result: Buffer | null }
      | undefined
    if (row === undefined) return undefined
    const base = { function: row.function, inputCid: row.input_cid, invocation: row.invocation }
    if (row.state === 'completed') {
      const text = row.result!.toString('utf8')
      const at = text.indexOf(',"output":')
      const completed = (JSON.parse(`${text.slice(0, at)}}`) as { completed: string }).completed
      const output = text.slice(at + ',"output":'.length, -1)
      return { state: 'completed', ...base, completed, output }
    }
    if (row.state === 'failed') {
      const r = JSON.parse(row.result!.toString('utf8')) as { code: string; message: string; sent: boolean }
      return { state: 'failed', ...base, error: { code: r.code, message: r.message }, sent: r.sent }
    }
    return { state: 'pending', ...base }
  }

  /** A committed entry by id. */
  async entry(entryId: string): Promise<SealedEntry> {
    await this.sync()
    const row = this.st.entryById.get(entryId) as { seq: number; body: Buffer } | undefined
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
    const row = this.st.chargeByEntry.get(entryId) as
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
   * one is signed now if none does yet). Check it with {@link verifyInclusion}.
   */
  async proof(entryId: string): Promise<InclusionProof> {
    if (typeof entryId !== 'string')
      throw new LedgerQueryError('proof', 'entryId', 'must be a string', entryId)
    const sealed = await this.entry(entryId)
    let checkpoint = this.latestCheckpoint
    if (checkpoint === undefined || checkpoint.treeSize <= sealed.seq) checkpoint = await this.checkpoint()
    const leaves = (this.st.leavesUpTo.all(checkpoint.treeSize) as { leaf: Buffer }[]).map(
      (r) => new Uint8Array(r.leaf.buffer, r.leaf.byteOffset, r.leaf.byteLength),
    )
    const path = inclusionPath(leaves, sealed.seq).map((h) => Buffer.from(h).toString('hex'))
    return { entryId, entry: decoder.decode(sealed.bytes), leafIndex: sealed.seq, path, checkpoint }
  }

  /** Signs and stores a checkpoint of the whole log now (or returns the one at the current size). */
  async checkpoint(): Promise<Checkpoint> {
    this.assertOpen()
    if (this.latestCheckpoint !== undefined && this.latestCheckpoint.treeSize === this.tree.size) {
      await this.sync()
      return this.latestCheckpoint
    }
    return this.makeCheckpoint()
  }

  /**
   * Re-checks the whole log from its stored bytes: every entry's id, canonical form, position and link
   * to the one before, every leaf hash, every checkpoint root and signature, and that each
   * FUNCTION_COMPLETED has exactly the one charge it states and no charge lacks its entry. Reports the
   * first thing that does not check out, naming the entry.
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
    if (this.queue.length === 0 && !this.scheduled) {
      if (this.broken !== undefined) return Promise.reject(this.broken)
      return Promise.resolve()
    }
    return this.enqueue(() => {})
  }

  /** Commits what is queued, writes a final checkpoint if the log grew, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      if (this.broken === undefined && this.tree.size > this.lastCheckpointSize) await this.checkpoint()
      await this.sync()
    } finally {
      this.closeNow()
    }
  }

  /** Closes the file without waiting for anything. */
  closeNow(): void {
    if (this.closed) return
    this.closed = true
    for (const op of this.queue) op.reject(new LedgerClosedError(this.path))
    this.queue = []
    if (this.db.open) this.db.close()
  }

  // ---------------------------------------------------------------- internals

  private seal(fields: Unsealed): SealedEntry {
    const entry = compact({
      v: 1,
      ...fields,
      seq: this.tree.size,
      prev: this.lastId,
      at: this.clock.now(),
    }) as LineageEntry
    const bytes = Buffer.from(canonicalJson(entry))
    const id = fastCid(bytes)
    const leaf = leafHash(bytes)
    this.tree.append(leaf)
    this.lastId = id
    const sealed: SealedEntry & { leaf: Uint8Array } = { id, seq: entry.seq, bytes, entry, leaf }
    if (
      this.tree.size - this.lastCheckpointSize >= this.checkpointEvery &&
      this.checkpointing === undefined
    ) {
      void this.makeCheckpoint().catch(() => {})
    }
    return sealed
  }

  private insert(sealed: SealedEntry): void {
    const { bytes } = sealed
    const leaf = (sealed as SealedEntry & { leaf: Uint8Array }).leaf
    this.st.insertEntry.run(
      sealed.seq,
      sealed.id,
      sealed.entry.type,
      sealed.entry.invocation,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength),
    )
  }

  private writeKeyFailure(
    key: { principal: string; key: string; release: boolean; sent: boolean },
    error: { code: string; message: string },
  ): void {
    if (key.release) this.st.deleteKey.run(key.principal, key.key)
    else
      this.st.finishKey.run(
        'failed',
        JSON.stringify({ code: error.code, message: error.message, sent: key.sent }),
        key.principal,
        key.key,
      )
  }

  private makeCheckpoint(): Promise<Checkpoint> {
    const treeSize = this.tree.size
    const root = this.root
    const at = this.clock.now()
    const signer = this.signer!
    this.lastCheckpointSize = treeSize
    const unsigned = { log: this.logId, treeSize, root, at, keyId: signer.id }
    const run = (async () => {
      const signature = await signer.sign(checkpointPayload(unsigned))
      const checkpoint: Checkpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64url') }
      await this.enqueue(() => {
        this.st.insertCheckpoint.run(
          treeSize,
          Buffer.from(root, 'hex'),
          at,
          signer.id,
          Buffer.from(checkpointPayload(unsigned)),
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

  /** Queues a write for the next batch; a `lazy` write waits for the next write that schedules a flush. */
  private enqueue(write: () => void, lazy = false): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken)
    if (this.closed) return Promise.reject(new LedgerClosedError(this.path))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ write, resolve, reject })
      if (!this.scheduled && !lazy) {
        this.scheduled = true
        queueMicrotask(this.flush)
      }
    })
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const batch = this.queue
    this.queue = []
    if (batch.length === 0 || this.closed) return
    try {
      this.runBatch(batch)
    } catch (err) {
      this.broken ??= new LedgerWriteError(this.path, err)
      for (const op of batch) op.reject(this.broken)
      for (const op of this.queue) op.reject(this.broken)
      this.queue = []
      return
    }
    for (const op of batch) op.resolve()
  }

  /** Closes every attempt a crash left without a terminal entry, and every key it left pending. */
  private async recover(): Promise<void> {
    const open = this.st.openAttempts.all() as { invoked: string; seq: number; body: Buffer }[]
    const writes: Promise<unknown>[] = []
    for (const row of open) {
      const invoked: Attempt = Object.assign(sealedFromRow(row.invoked, row.seq, row.body), { open: true })
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
      this.enqueue(() => {
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

  private loadTree(size: number): CompactTree {
    const stored = this.meta('tree')
    if (stored !== undefined) {
      const state = JSON.parse(stored) as { size: number; peaks: string[] }
      if (state.size === size)
        return new CompactTree(
          size,
          state.peaks.map((p) => new Uint8Array(Buffer.from(p, 'hex'))),
        )
    }
    const tree = new CompactTree()
    for (const row of this.st.leavesUpTo.iterate(size) as Iterable<{ leaf: Buffer }>)
      tree.append(new Uint8Array(row.leaf))
    return tree
  }

  private meta(key: string): string | undefined {
    return (this.st.getMeta.get(key) as { v: string } | undefined)?.v
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerClosedError(this.path)
    if (this.broken !== undefined) throw this.broken
  }
}

function prepare(db: Database.Database) {
  return {
    getMeta: db.prepare('SELECT v FROM meta WHERE k = ?'),
    setMeta: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v'),
    lastEntry: db.prepare('SELECT seq, id FROM entries ORDER BY seq DESC LIMIT 1'),
    insertEntry: db.prepare(
      'INSERT INTO entries (seq, id, type, invocation, body, leaf) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    entryById: db.prepare('SELECT seq, body FROM entries WHERE id = ?'),
    entriesByInvocation: db.prepare('SELECT seq, id, body FROM entries WHERE invocation = ? ORDER BY seq'),
    leavesUpTo: db.prepare('SELECT leaf FROM entries WHERE seq < ? ORDER BY seq'),
    openAttempt: db.prepare('INSERT INTO open_attempts (invoked, seq) VALUES (?, ?)'),
    closeAttempt: db.prepare('DELETE FROM open_attempts WHERE invoked = ?'),
    openAttempts: db.prepare(
      'SELECT o.invoked AS invoked, o.seq AS seq, e.body AS body FROM open_attempts o JOIN entries e ON e.id = o.invoked ORDER BY o.seq',
    ),
    insertCharge: db.prepare(
      'INSERT INTO charges (entry, invocation, function, version, provider, principal, lease, currency, amount, quantity, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    chargeByEntry: db.prepare('SELECT currency, amount, quantity, lease FROM charges WHERE entry = ?'),
    getKey: db.prepare(
      'SELECT function, input_cid, invocation, state, result FROM idempotency WHERE principal = ? AND key = ?',
    ),
    claimKey: db.prepare(
      "INSERT OR REPLACE INTO idempotency (principal, key, function, input_cid, invocation, state, result, at) VALUES (?, ?, ?, ?, ?, 'pending', NULL, ?)",
    ),
    finishKey: db.prepare('UPDATE idempotency SET state = ?, result = ? WHERE principal = ? AND key = ?'),
    deleteKey: db.prepare('DELETE FROM idempotency WHERE principal = ? AND key = ?'),
    failPendingKeys: db.prepare(
      "UPDATE idempotency SET state = 'failed', result = ? WHERE state = 'pending'",
    ),
    insertCheckpoint: db.prepare(
      'INSERT OR REPLACE INTO checkpoints (tree_size, root, at, key_id, body, signature) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    lastCheckpoint: db.prepare(
      'SELECT tree_size, root, at, key_id, signature FROM checkpoints ORDER BY tree_size DESC LIMIT 1',
    ),
  }
}

function treeState(tree: CompactTree): string {
  return JSON.stringify({
    size: tree.size,
    peaks: tree.snapshot().map((p) => Buffer.from(p).toString('hex')),
  })
}

function sealedFromRow(id: string, seq: number, body: Buffer): SealedEntry {
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return { id, seq, bytes, entry: JSON.parse(decoder.decode(bytes)) as LineageEntry }
}
