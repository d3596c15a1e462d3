import git from 'isomorphic-git'
import { throwIfAborted } from '../../src/abort.js'
import { PublishConflictError } from '../../src/errors/registry.js'
import type { Logger } from '../../src/logger.js'
import type { PublishReceipt } from '../../src/registry/types.js'
import { type BranchTip, commitOnBranch } from './_branchTip.js'
import { landOn, landOnTip } from './_landing.js'
import { publishMessage } from './_layout.js'
import type { CheckedRecord } from './_recordCheck.js'
import type { IndexEntry, RecordIndex } from './_recordIndex.js'
import { treeOf } from './_repository.js'
import { putBlobAtPath } from './_trees.js'
import { GitPushConflictError } from './errors.js'

/** What a publish needs of its registry, which holds its sync lock meanwhile. */
export interface PublishHost {
  readonly tip: BranchTip
  readonly index: RecordIndex
  readonly log: Logger
  /** The commit the index reflects. */
  indexed(): string
  /** A sync, under the lock the publish holds: the branch moved, the index follows it. */
  resync(signal: AbortSignal | undefined): Promise<unknown>
  /** Brings the index to `tip` after a publish landed on it; false (logged) if that failed. */
  catchUp(tip: string): Promise<boolean>
  /** The record landed at `commit`: into the index, saved, watchers told. */
  accepted(name: string, entry: IndexEntry): Promise<void>
}

/** A checked record to publish at `path`. */
export interface ToPublish extends CheckedRecord {
  readonly name: string
  readonly path: string
  readonly bytes: Uint8Array
}

/**
 * Lands a checked record on the branch: refused if the index holds a newer one of its name (the
 * same record again is its receipt), else committed on the indexed tip and swapped or pushed in, a
 * few attempts when the branch moves meanwhile. Callers hold the registry's sync lock.
 */
export async function publishOnBranch(
  host: PublishHost,
  { name, path, bytes, record, id, owned }: ToPublish,
  signal: AbortSignal | undefined,
): Promise<PublishReceipt> {
  const { tip, index } = host
  const { cfg, ctx } = tip
  const message = publishMessage(name, record.seq, id, record.signatures)
  for (let attempt = 1; attempt <= cfg.maxPushAttempts; attempt++) {
    throwIfAborted(signal, `${cfg.id} publish`)
    const refusal = index.refusal(
      name,
      { seq: record.seq, id, ...(owned ? {} : { unowned: true as const }) },
      `${cfg.id} publish`,
    )
    if (refusal === 'same') {
      const held = index.entries.get(name)!
      return { registry: cfg.id, location: `git:${held.commit}:${held.path}` }
    }
    if (refusal !== undefined) {
      throw new PublishConflictError(
        cfg.id,
        name,
        record.seq,
        Math.max(index.highest.get(name) ?? -1, owned ? -1 : (index.unownedHighest.get(name) ?? -1)),
      )
    }
    const blob = await git.writeBlob({ fs: ctx.fs, gitdir: ctx.gitdir, blob: bytes })
    const build = async (base: string) =>
      commitOnBranch(tip, await putBlobAtPath(ctx, await treeOf(ctx, base), path, blob), [base], message)
    // A first attempt holds the branch's lock only to swap it (a writer killed while holding it
    // leaves a lock that stops every publish until removed); a local retry holds it to build.
    const local = cfg.url === undefined
    const indexed = host.indexed()
    const landed =
      local && attempt > 1
        ? await landOnTip(tip, { path, indexed }, build, signal)
        : await landOn(tip, indexed, build, signal)
    if (landed === undefined) {
      host.log('publish %s: branch moved (attempt %d), rebuilding on the new tip', name, attempt)
      if (!local || attempt > 1) await host.resync(signal)
      continue
    }
    const receipt = { registry: cfg.id, location: `git:${landed.commit}:${path}` }
    // Landed: the receipt stands. The index catches up with the tip it was built on, or the next sync does.
    if (landed.base !== host.indexed() && !(await host.catchUp(landed.base))) return receipt
    await host.accepted(name, {
      oid: blob,
      seq: record.seq,
      id,
      path,
      commit: landed.commit,
      ...(owned ? {} : { unowned: true as const }),
    })
    return receipt
  }
  throw new GitPushConflictError(cfg.id, name, cfg.maxPushAttempts)
}
