import { throwIfAborted } from '../../src/_abort.js'
import { isMeshError } from '../../src/errors/base.js'
import { SeqRollbackError } from '../../src/errors/trust.js'
import type { GitContext } from './_context.js'
import { nameFromPath } from './_layout.js'
import type { RecordCheck } from './_recordCheck.js'
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

/**
 * Names to the blob of the record accepted for each, plus the highest seq ever accepted per name
 * (kept after a record file is removed, so an older record can never come back).
 */
export class RecordIndex {
  readonly entries = new Map<string, IndexEntry>()
  readonly highest = new Map<string, number>()

  /** Reads, checks and applies the record files a tree diff names. */
  async apply(
    ctx: GitContext,
    diff: TreeDiff,
    commit: string,
    check: RecordCheck,
    signal?: AbortSignal,
  ): Promise<ApplyResult> {
    const changed: string[] = []
    const removed: string[] = []
    const skipped: SkippedRecord[] = []
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
    throwIfAborted(signal, 'git sync')
    outcomes.forEach((outcome, i) => {
      const path = upserts[i]![0]
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
  refusal(name: string, entry: { seq: number; id: string }, origin: string): Error | 'same' | undefined {
    const current = this.entries.get(name)
    if (current !== undefined && current.id === entry.id) return 'same'
    const highest = this.highest.get(name)
    if (highest === undefined || entry.seq > highest) return undefined
    if (entry.seq < highest) return new SeqRollbackError({ name, origin }, entry.seq, highest)
    return new SeqReusedError(name, entry.seq, origin)
  }

  accept(name: string, entry: IndexEntry): void {
    this.entries.set(name, entry)
    const highest = this.highest.get(name)
    if (highest === undefined || entry.seq > highest) this.highest.set(name, entry.seq)
  }

  private async read(
    ctx: GitContext,
    path: string,
    oid: string,
  ): Promise<{ name: string; bytes: Uint8Array } | { name: string; error: unknown }> {
    let name = path
    try {
      name = nameFromPath(path)
      return { name, bytes: await ctx.objects.readBlob(oid) }
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
    const settled = await check.many(
      batch.map(({ path, name, bytes }) => ({
        bytes,
        options: {
          origin: `git:${commit.slice(0, 12)}:${path}`,
          expectName: name,
          ...(signal ? { signal } : {}),
        },
      })),
    )
    batch.forEach(({ i, path, oid, name }, k) => {
      const result = settled[k]!
      if (result.status === 'rejected') outcomes[i] = { name, error: result.reason }
      else {
        const { record, id } = result.value
        outcomes[i] = { name, entry: { oid, seq: record.seq, id, path, commit } }
      }
    })
  }
}

type Outcome = { name: string; entry?: IndexEntry; error?: unknown }

/** A record file's blob, read and waiting to be checked. */
interface Read {
  readonly i: number
  readonly path: string
  readonly oid: string
  readonly name: string
  readonly bytes: Uint8Array
}

function skip(name: string, path: string, error: unknown): SkippedRecord {
  const code = isMeshError(error) ? error.code : 'E_GIT_READ'
  const message = isMeshError(error) ? error.shortMessage : String((error as Error)?.message ?? error)
  return { name, path, code, message }
}
