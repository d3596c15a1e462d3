import type { GitContext } from './_context.js'
import { nameFromPath } from './_layout.js'
import type { CheckedRecord, CheckOptions, RecordCheck } from './_recordCheck.js'
import { type RecordIndex, type SkippedRecord, skip } from './_recordIndex.js'

/** Records checked together by the background pass (one `RecordCheck.many` call). @default 256 */
const BATCH = 256

/** A record file indexed by name but not yet verified. */
interface Pending {
  readonly path: string
  readonly oid: string
}

/** What a background verification pass found, once no record of its commit is pending. */
export interface BackgroundVerification {
  /** The commit whose records were verified. */
  readonly commit: string
  /** Record files checked. */
  readonly records: number
  /** Names whose record was accepted into the index. */
  readonly changed: readonly string[]
  /** Record files refused (bad signature, schema, seq), as a sync reports them. */
  readonly skipped: readonly SkippedRecord[]
  /** From indexing to the last record checked. */
  readonly durationMs: number
}

export interface PendingRecordsInit {
  readonly ctx: GitContext
  readonly index: RecordIndex
  readonly check: RecordCheck
  /** The commit the pending record files are at. */
  readonly commit: string
  /** Record files by name (the background pass checks them in pack order). */
  readonly files: ReadonlyMap<string, Pending>
  /** Files refused before any check (a path that names no record), reported with the others. */
  readonly refused?: readonly SkippedRecord[]
  /** Called once, when the last pending record has been checked. */
  readonly onDone: (result: BackgroundVerification) => void
}

/**
 * The record files of a first sync, indexed by name before any is verified, so the registry answers
 * as soon as its index exists. No record is served or listed before its check: a name asked for
 * ({@link PendingRecords.settle}) is checked at once (or waits for the batch already checking it),
 * and a background pass ({@link PendingRecords.drain}) checks the rest in batches on the verifier's
 * workers, their blobs read in bulk in pack order (`ObjectReader.readBlobs`). Each record goes
 * through the same check and the same index rules (seq, rollback) as a sync that checks everything
 * first; a refused one is reported as skipped and never enters the index.
 */
export class PendingRecords {
  private readonly init: PendingRecordsInit
  private pending: Map<string, Pending>
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly changed: string[] = []
  private readonly skipped: SkippedRecord[] = []
  private readonly startedAt = performance.now()
  private readonly total: number
  private running: Promise<void> | undefined
  private halted = false
  private done = false
  private ordered = false

  constructor(init: PendingRecordsInit) {
    this.init = init
    this.pending = new Map(init.files)
    this.skipped.push(...(init.refused ?? []))
    this.total = init.files.size + this.skipped.length
  }

  /** Names indexed and not yet verified (being checked or waiting). */
  get size(): number {
    return this.pending.size + this.inFlight.size
  }

  /** Whether `name` is indexed but not yet verified. */
  has(name: string): boolean {
    return this.pending.has(name) || this.inFlight.has(name)
  }

  /** Names not yet verified, for `list` to check before it yields any. */
  names(): IterableIterator<string> {
    return [...this.pending.keys(), ...this.inFlight.keys()].values()
  }

  /** Checks these names now (those not pending are skipped); settles when each is in the index or refused. */
  async settle(names: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = []
    const take: string[] = []
    for (const name of names) {
      const flying = this.inFlight.get(name)
      if (flying !== undefined) waits.push(flying)
      else if (this.pending.has(name)) take.push(name)
    }
    if (take.length > 0) waits.push(this.checkBatch(take))
    await Promise.all(waits)
  }

  /** Checks every pending record in the background; resolves when none is pending. Idempotent. */
  drain(): Promise<void> {
    this.halted = false
    this.running ??= this.loop().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Stops the background pass after its current batch (lookups still check on demand). */
  async halt(): Promise<void> {
    this.halted = true
    await this.running
  }

  private async loop(): Promise<void> {
    if (!this.ordered) await this.inPackOrder()
    // Two batches at a time: one is read and applied here while the workers check the other.
    const lane = async () => {
      while (!this.halted && this.pending.size > 0) {
        const batch: string[] = []
        for (const name of this.pending.keys()) {
          batch.push(name)
          if (batch.length >= BATCH) break
        }
        await this.checkBatch(batch)
        // A turn of the event loop between batches, so lookups waiting on one name get in.
        await new Promise(setImmediate)
      }
    }
    await Promise.all([lane(), lane()])
    await Promise.all(this.inFlight.values())
  }

  /**
   * Puts the records still pending in the order their blobs lie in the packs, so the batches read
   * each pack in one sweep (a delta's base is then still cached). After a turn of the event loop, so
   * a lookup that came with the index is checked first.
   */
  private async inPackOrder(): Promise<void> {
    this.ordered = true
    await new Promise(setImmediate)
    // Only an order: packs that cannot be listed leave it as it was, and each read says what failed.
    const order = await this.init.ctx.objects
      .packOrder([...this.pending], ([, file]) => file.oid)
      .catch(() => undefined)
    // Pending only shrinks: a name checked meanwhile is not put back.
    if (order !== undefined) this.pending = new Map(order.filter(([name]) => this.pending.has(name)))
  }

  /** Takes `names` out of pending, checks them together and applies each outcome to the index. */
  private checkBatch(names: readonly string[]): Promise<void> {
    const files = names.map((name) => ({ name, ...this.pending.get(name)! }))
    for (const { name } of files) this.pending.delete(name)
    const work = this.run(files).finally(() => {
      for (const { name } of files) this.inFlight.delete(name)
      if (this.pending.size === 0 && this.inFlight.size === 0) this.finish()
    })
    for (const { name } of files) this.inFlight.set(name, work)
    return work
  }

  private async run(files: readonly { name: string; path: string; oid: string }[]): Promise<void> {
    const { ctx, check, commit, index } = this.init
    const blobs = await ctx.objects
      .readBlobs(files.map((f) => f.oid))
      .catch((error: unknown) => files.map(() => (error instanceof Error ? error : new Error(String(error)))))
    const read = files.map((f, i) => {
      const blob = blobs[i]!
      return blob instanceof Error ? { ...f, error: blob } : { ...f, bytes: blob }
    })
    const items = read.flatMap((r) =>
      'bytes' in r
        ? [
            {
              bytes: r.bytes,
              options: { origin: `git:${commit.slice(0, 12)}:${r.path}`, expectName: r.name },
            },
          ]
        : [],
    )
    let settled: PromiseSettledResult<CheckedRecord>[]
    try {
      settled = await check.many(items as { bytes: Uint8Array; options: CheckOptions }[])
    } catch (error) {
      settled = items.map(() => ({ status: 'rejected', reason: error }))
    }
    let k = 0
    for (const r of read) {
      if (!('bytes' in r)) {
        this.skip(r.name, r.path, r.error)
        continue
      }
      const result = settled[k++]!
      if (result.status === 'rejected') {
        this.skip(r.name, r.path, result.reason)
        continue
      }
      const { record, id, owned } = result.value
      const entry = {
        oid: r.oid,
        seq: record.seq,
        id,
        path: r.path,
        commit,
        ...(owned ? {} : { unowned: true as const }),
      }
      const refusal = index.refusal(r.name, entry, `git:${commit}:${r.path}`)
      if (refusal === 'same') continue
      if (refusal !== undefined) {
        this.skip(r.name, r.path, refusal)
        continue
      }
      index.accept(r.name, entry)
      this.changed.push(r.name)
    }
  }

  private skip(name: string, path: string, error: unknown): void {
    this.skipped.push(skip(name, path, error))
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    this.init.onDone({
      commit: this.init.commit,
      records: this.total,
      changed: this.changed.sort(),
      skipped: this.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      durationMs: performance.now() - this.startedAt,
    })
  }
}

/**
 * The record files of a first sync's tree diff by name, in path order, and the refusals of paths
 * that name no record (as {@link RecordIndex.applyChecked} reports them).
 */
export function pendingFiles(upserts: ReadonlyMap<string, string>): {
  files: Map<string, Pending>
  refused: SkippedRecord[]
} {
  const files = new Map<string, Pending>()
  const refused: SkippedRecord[] = []
  for (const [path, oid] of [...upserts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    try {
      files.set(nameFromPath(path), { path, oid })
    } catch (error) {
      refused.push(skip(path, path, error))
    }
  }
  return { files, refused }
}
