import type { Logger } from '../../src/logger.js'
import type { GitContext } from './_context.js'
import { type BackgroundVerification, PendingRecords, pendingFiles } from './_pendingRecords.js'
import type { RecordCheck } from './_recordCheck.js'
import type { RecordIndex } from './_recordIndex.js'
import type { walkNewCommits } from './_repository.js'
import { commitDiff } from './_trees.js'
import type { SyncReport } from './types.js'

export interface IndexPendingInit {
  readonly ctx: GitContext
  readonly index: RecordIndex
  readonly check: RecordCheck
  readonly log: Logger
  /** The first sync's commit. */
  readonly tip: string
  readonly walk: Awaited<ReturnType<typeof walkNewCommits>>
  /** When the sync started (`performance.now()`). */
  readonly startedAt: number
  /** Called once, when the last pending record is checked, with the sync's full report. */
  readonly onDone: (result: BackgroundVerification, full: SyncReport) => void
}

/**
 * A first sync that verifies in the background: indexes every record file of `tip` as pending and
 * returns the report to answer with now (its `pending` count) and the pending set, whose background
 * pass the caller starts (see `PendingRecords`). When the last record is checked, `onDone` hears
 * the full report.
 */
export async function indexPending(
  init: IndexPendingInit,
): Promise<{ report: SyncReport; pending: PendingRecords | undefined }> {
  const { ctx, tip, walk, log } = init
  const found = pendingFiles((await commitDiff(ctx, undefined, tip)).upserts)
  const base = { commit: tip, removed: [], rewritten: !walk.reached, commits: walk.commits }
  const durationMs = performance.now() - init.startedAt
  const report = { ...base, changed: [], skipped: found.refused, durationMs }
  if (found.files.size === 0) return { report, pending: undefined }
  const pending = new PendingRecords({
    ctx,
    index: init.index,
    check: init.check,
    commit: tip,
    files: found.files,
    refused: found.refused,
    onDone: (result) => {
      for (const skipped of result.skipped)
        log('skipped %s (%s): %s', skipped.path, skipped.code, skipped.message)
      log('verified %s: %d accepted, %d skipped', tip, result.changed.length, result.skipped.length)
      init.onDone(result, {
        ...base,
        changed: result.changed,
        skipped: result.skipped,
        durationMs: durationMs + result.durationMs,
      })
    },
  })
  return { report: { ...report, pending: found.files.size }, pending }
}
