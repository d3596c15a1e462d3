import { throwIfAborted } from '../../src/abort.js'
import { isMeshError } from '../../src/errors/base.js'
import { SeqRollbackError } from '../../src/errors/trust.js'
import type { GitContext } from './_context.js'
import { nameFromPath } from './_layout.js'
import type { CheckedRecord, CheckOptions, RecordCheck } from './_recordCheck.js'
import type { TreeDiff } from './_trees.js'
import { SeqReusedError } from './errors.js'

/** Where the accepted record for a name lives: lookups read this one blob. */
export interface IndexEntry {
  readonly oid: string
  readonly seq: number
  readonly id: string
  readonly path: string
  /** The commit whose tree the record was accepted from. */
  readonly commit: string
  /**
   * Set when no trust source knew the namespace at acceptance: anyone who can push could write it,
   * so its seq is a floor for other unowned records only, never for the owner's (a squatter's high
   * seq must not block the namespace's owner once it is claimed).
   */
  readonly unowned?: true
}

/** A record file a sync refused; the last accepted record for the name (if any) is kept. */
export interface SkippedRecord {
  /** The record name the file's path stands for (the path itself when it stands for none). */
  readonly name: string
  readonly path: string
  /** The refusal's stable code: E_SIGNATURE_INVALID, E_RECORD_UNSIGNED, E_SEQ_ROLLBACK, ... */
  readonly code: string
  readonly message: string
}

export interface ApplyResult {
  readonly changed: string[]
  readonly removed: string[]
  readonly skipped: SkippedRecord[]
}

/** Blobs read at once during a sync. @default 16 */
const READ_CONCURRENCY = 16
/** Blobs read before they are checked together (`RecordCheck.many`) while reading goes on. @default 256 */
const CHECK_BATCH = 256

/** Blobs {@link RecordIndex.prepare} reads between turns of the event loop. @default 64 */
const YIELD_EVERY = 64

/**
 * Names to the blob of the record accepted for each, plus the highest seq ever accepted per name
 * (kept after a record file is removed, so an older record can never come back). Records of
 * namespaces no trust source knows keep their own highest seqs (`unownedHighest`), which hold
 * other unowned records only: see {@link IndexEntry.unowned}.
 */
export class RecordIndex {
  readonly entries = new Map<string, IndexEntry>()
  readonly highest = new Map<string, number>()
  readonly unownedHighest = new Map<string, number>()

  /** Reads, checks and applies the record files a tree diff names. */
  async apply(
    ctx: GitContext,
    diff: TreeDiff,
    commit: string,
    check: RecordCheck,
    signal?: AbortSignal,
  ): Promise<ApplyResult> {
    return this.applyChecked(diff, await this.check(ctx, diff, commit, check, signal), signal)
  }

  /**
   * Reads and checks the record files a tree diff names, changing nothing: what each file holds
   * (its entry, or why it is refused) for {@link RecordIndex.applyChecked}.
   */
  async check(
    ctx: GitContext,
    diff: TreeDiff,
    commit: string,
    check: RecordCheck,
    signal?: AbortSignal,
  ): Promise<CheckedFiles> {
    const upserts = [...diff.upserts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const outcomes = new Array<Outcome>(upserts.length)
    const read: Read[] = []
    const checks: Promise<void>[] = []
    const flush = () => checks.push(this.checkBatch(read.splice(0), outcomes, commit, check, signal))
    let next = 0
    const worker = async () => {
      while (next < upserts.length) {
        const i = next++
        const [path, oid] = upserts[i]!
        const blob = await this.read(ctx, path, oid)
        if ('error' in blob) outcomes[i] = blob
        else {
          read.push({ i, path, oid, ...blob })
          if (read.length >= CHECK_BATCH) flush()
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, upserts.length) }, worker))
    if (read.length > 0) flush()
    await Promise.all(checks)
    return { commit, paths: upserts.map(([path]) => path), outcomes }
  }

  /**
   * {@link RecordIndex.check} in two steps: reads every record file now (or takes its bytes from
   * `blobs`, by path) and starts its checks on the verification workers (`check.prepare`), leaving
   * this thread's share of the checks to `finish`. Undefined when `check` cannot prepare (no verifier).
   */
  async prepare(
    ctx: GitContext,
    diff: TreeDiff,
    commit: string,
    check: RecordCheck,
    signal?: AbortSignal,
    blobs?: (path: string) => Uint8Array | undefined,
  ): Promise<{ finish(): Promise<CheckedFiles>; discard(): void } | undefined> {
    if (check.prepare === undefined) return undefined
    const upserts = [...diff.upserts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const outcomes = new Array<Outcome>(upserts.length)
    const read: Read[] = []
    for (let i = 0; i < upserts.length; i++) {
      const [path, oid] = upserts[i]!
      const given = blobs?.(path)
      // Short turns when reading here: the caller's thread is busy with a fetch meanwhile.
      if (given === undefined && i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise(setImmediate)
      const blob = await this.read(ctx, path, oid, given)
      if ('error' in blob) outcomes[i] = blob
      else read.push({ i, path, oid, ...blob })
    }
    const prepared = check.prepare(read.map((r) => this.item(r, commit, signal)))
    return {
      finish: async () => {
        this.settleBatch(read, await prepared.finish(), outcomes, commit)
        return { commit, paths: upserts.map(([path]) => path), outcomes }
      },
      discard: () => prepared.discard(),
    }
  }

  /** Applies what {@link RecordIndex.check} found: accepts each record the index may take, in path order. */
  applyChecked(diff: TreeDiff, checked: CheckedFiles, signal?: AbortSignal): ApplyResult {
    throwIfAborted(signal, 'git sync')
    const changed: string[] = []
    const removed: string[] = []
    const skipped: SkippedRecord[] = []
    const commit = checked.commit
    checked.outcomes.forEach((outcome, i) => {
      const path = checked.paths[i]!
      if (outcome.error !== undefined) {
        skipped.push(skip(outcome.name, path, outcome.error))
        return
      }
      const entry = outcome.entry!
      const refusal = this.refusal(outcome.name, entry, `git:${commit}:${path}`)
      if (refusal === 'same') return
      if (refusal !== undefined) {
        skipped.push(skip(outcome.name, path, refusal))
        return
      }
      this.accept(outcome.name, entry)
      changed.push(outcome.name)
    })
    for (const path of [...diff.deletes].sort()) {
      let name: string
      try {
        name = nameFromPath(path)
      } catch {
        continue
      }
      const current = this.entries.get(name)
      if (current === undefined || current.path !== path || diff.upserts.has(path)) continue
      this.entries.delete(name)
      removed.push(name)
    }
    return { changed, removed, skipped }
  }

  /** Why `entry` may not replace what the index holds for `name`: 'same' when it is the same record. */
  refusal(
    name: string,
    entry: { seq: number; id: string; unowned?: true },
    origin: string,
  ): Error | 'same' | undefined {
    const current = this.entries.get(name)
    if (current !== undefined && current.id === entry.id) return 'same'
    const owned = this.highest.get(name)
    const unowned = entry.unowned === true ? this.unownedHighest.get(name) : undefined
    const highest = owned === undefined ? unowned : unowned === undefined ? owned : Math.max(owned, unowned)
    if (highest === undefined || entry.seq > highest) return undefined
    if (entry.seq < highest) return new SeqRollbackError({ name, origin }, entry.seq, highest)
    return new SeqReusedError(name, entry.seq, origin)
  }

  accept(name: string, entry: IndexEntry): void {
    this.entries.set(name, entry)
    const seqs = entry.unowned === true ? this.unownedHighest : this.highest
    const highest = seqs.get(name)
    if (highest === undefined || entry.seq > highest) seqs.set(name, entry.seq)
  }

  private async read(
    ctx: GitContext,
    path: string,
    oid: string,
    given?: Uint8Array,
  ): Promise<{ name: string; bytes: Uint8Array } | { name: string; error: unknown }> {
    let name = path
    try {
      name = nameFromPath(path)
      return { name, bytes: given ?? (await ctx.objects.readBlob(oid)) }
    } catch (error) {
      return { name, error }
    }
  }

  /** Checks a batch of blobs read, filling in their outcomes. */
  private async checkBatch(
    batch: readonly Read[],
    outcomes: Outcome[],
    commit: string,
    check: RecordCheck,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.settleBatch(
      batch,
      await check.many(batch.map((r) => this.item(r, commit, signal))),
      outcomes,
      commit,
    )
  }

  private item(
    { path, name, bytes }: Read,
    commit: string,
    signal: AbortSignal | undefined,
  ): { bytes: Uint8Array; options: CheckOptions } {
    return {
      bytes,
      options: {
        origin: `git:${commit.slice(0, 12)}:${path}`,
        expectName: name,
        ...(signal ? { signal } : {}),
      },
    }
  }

  private settleBatch(
    batch: readonly Read[],
    settled: readonly PromiseSettledResult<CheckedRecord>[],
    outcomes: Outcome[],
    commit: string,
  ): void {
    batch.forEach(({ i, path, oid, name }, k) => {
      const result = settled[k]!
      if (result.status === 'rejected') outcomes[i] = { name, error: result.reason }
      else {
        const { record, id, owned } = result.value
        outcomes[i] = {
          name,
          entry: { oid, seq: record.seq, id, path, commit, ...(owned ? {} : { unowned: true as const }) },
        }
      }
    })
  }
}

type Outcome = { name: string; entry?: IndexEntry; error?: unknown }

/** The record files of a diff, read and checked (see {@link RecordIndex.check}), in path order. */
export interface CheckedFiles {
  readonly commit: string
  readonly paths: readonly string[]
  readonly outcomes: readonly Outcome[]
}

/** A record file's blob, read and waiting to be checked. */
interface Read {
  readonly i: number
  readonly path: string
  readonly oid: string
  readonly name: string
  readonly bytes: Uint8Array
}

/** A refused record file as a sync reports it. */
export function skip(name: string, path: string, error: unknown): SkippedRecord {
  const code = isMeshError(error) ? error.code : 'E_GIT_READ'
  const message = isMeshError(error) ? error.shortMessage : String((error as Error)?.message ?? error)
  return { name, path, code, message }
}
