import { throwIfAborted } from '../../src/abort.js'
import type { Clock } from '../../src/clock.js'
import type { Landing } from './_landing.js'
import { fetchBranch, type OnPack, PUSH_REJECTED, pushBranch } from './_remote.js'
import { readmeTree, writeCommit } from './_repository.js'

/** The registry's branch, where its commits are written and its remote's tip is followed. */
export interface BranchTip extends Landing {
  /** Commit times come from it. */
  readonly clock: Clock
}

/**
 * The commit the branch should be at: the remote's (fetched, the local branch following it), or the
 * local branch's without a remote; a new registry's first commit when there is none yet. An empty
 * remote is given this repository's branch.
 */
export async function fetchTip(
  tip: BranchTip,
  signal: AbortSignal | undefined,
  onPack?: OnPack,
): Promise<string> {
  const { cfg, ctx, branch } = tip
  throwIfAborted(signal, `${cfg.id} sync`)
  const local = await branch.read()
  if (cfg.url === undefined) return local ?? (await initialCommit(tip))
  const depth = local === undefined ? cfg.cloneDepth : 0
  const remote = await fetchBranch(cfg, ctx, depth, signal, onPack)
  if (remote !== undefined) {
    await branch.follow(local, remote, signal)
    return remote
  }
  // An empty remote: give it this repository's branch (a first commit holding the README if new).
  const head = local ?? (await initialCommit(tip))
  if ((await pushBranch(cfg, ctx, head, signal)) === PUSH_REJECTED) {
    const raced = await fetchBranch(cfg, ctx, 0, signal)
    if (raced !== undefined) {
      await branch.follow(head, raced, signal)
      return raced
    }
  }
  return head
}

/** Writes a commit by the registry's author (signed when it has a signer), at the clock's time. */
export function commitOnBranch(
  { cfg, ctx, clock }: BranchTip,
  tree: string,
  parents: string[],
  message: string,
): Promise<string> {
  const who = { ...cfg.author, timestamp: Math.floor(clock.now() / 1000) }
  return writeCommit(ctx, { tree, parents, author: who, committer: who, message }, cfg.signer)
}

/**
 * The first commit of a new registry: the README that explains the layout. Another writer may
 * create the branch first; then its first commit is the one used.
 */
async function initialCommit(tip: BranchTip): Promise<string> {
  const message = 'Start a function-mesh registry\n\nSee README.md for the layout.\n'
  const commit = await commitOnBranch(tip, await readmeTree(tip.ctx), [], message)
  if (await tip.branch.swap(undefined, commit)) return commit
  return (await tip.branch.read()) ?? commit
}
