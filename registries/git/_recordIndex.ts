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

/** Blobs read and checked at once during a sync. @default 16 */
const READ_CONCURRENCY = 16

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
    const outcomes = new Array<{ name: string; entry?: IndexEntry; error?: unknown }>(upserts.length)
    let next = 0
    const worker = async () => {
      while (next < upserts.length) {
        const i = next++
        const [path, oid] = upserts[i]!
        outcomes[i] = await this.read(ctx, path, oid, commit, check, signal)
      }
    }
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, upserts.length) }, worker))
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
    commit: string,
    check: RecordCheck,
    signal: AbortSignal | undefined,
  ): Promise<{ name: string; entry?: IndexEntry; error?: unknown }> {
    let name = path
    try {
      name = nameFromPath(path)
      const blob = await ctx.objects.readBlob(oid)
      const origin = `git:${commit.slice(0, 12)}:${path}`
      const { record, id } = await check(blob, { origin, expectName: name, ...(signal ? { signal } : {}) })
      return { name, entry: { oid, seq: record.seq, id, path, commit } }
    } catch (error) {
      return { name, error }
    }
  }
}

function skip(name: string, path: string, error: unknown): SkippedRecord {
  const code = isMeshError(error) ? error.code : 'E_GIT_READ'
  const message = isMeshError(error) ? error.shortMessage : String((error as Error)?.message ?? error)
  return { name, path, code, message }
}
