import type { GitConfig } from './_checkInit.js'
import type { GitContext } from './_context.js'
import type { LocalBranch } from './_localBranch.js'
import { PUSH_REJECTED, pushBranch } from './_remote.js'
import { blobAtPath } from './_trees.js'

/** Writes a publish's commit on a base commit; returns the commit's id. */
export type Build = (base: string) => Promise<string>

/** A publish's commit on the branch and the commit it was built on; `undefined`: the branch moved. */
export type Landed = { readonly commit: string; readonly base: string } | undefined

/** Where a publish's commit lands: the local branch, and the remote when there is one. */
export interface Landing {
  readonly cfg: GitConfig
  readonly ctx: GitContext
  readonly branch: LocalBranch
}

/**
 * Builds a publish's commit on `base` and moves the branch from `base` to it. Without a remote that
 * is one compare-and-swap of the local branch; with one, the push is the compare-and-swap (never
 * forced) and the local branch follows. `undefined` when the branch moved meanwhile (by another
 * registry object, another process, or git itself).
 */
export async function landOn(
  { cfg, ctx, branch }: Landing,
  base: string,
  build: Build,
  signal: AbortSignal | undefined,
): Promise<Landed> {
  const commit = await build(base)
  if (cfg.url === undefined) return (await branch.swap(base, commit, signal)) ? { commit, base } : undefined
  const seen = await branch.read()
  if ((await pushBranch(cfg, ctx, commit, signal)) === PUSH_REJECTED) return undefined
  await branch.follow(seen, commit, signal)
  return { commit, base }
}

/**
 * A publish's retry without a remote: builds the commit on the branch tip while holding the
 * branch's lock, so it cannot lose again. (Retried optimistically, a writer that lost one race kept
 * losing to a writer publishing back to back: its sync made every retry slower than the other's
 * next publish.) `undefined` when the record's file on the tip is not the one it has at `indexed`,
 * where the index judged the record: the caller syncs and judges again.
 */
export async function landOnTip(
  { ctx, branch }: Landing,
  at: { readonly path: string; readonly indexed: string },
  build: Build,
  signal: AbortSignal | undefined,
): Promise<Landed> {
  const file = (commit: string) => blobAtPath(ctx, commit, at.path)
  const judged = await file(at.indexed)
  let base: string | undefined
  const commit = await branch.update(async (tip) => {
    if (tip === undefined || (await file(tip)) !== judged) return undefined
    base = tip
    return build(tip)
  }, signal)
  return commit === undefined || base === undefined ? undefined : { commit, base }
}
