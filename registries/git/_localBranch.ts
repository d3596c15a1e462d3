import type { Logger } from '../../src/logger.js'
import { compareAndSwapRef, readRef, updateRef } from './_refLock.js'

/**
 * The registry's branch in its local repository, which other registry objects, processes and
 * system git may share. It only ever moves under its lock, from a value checked under that lock
 * ({@link updateRef}), so no writer can overwrite a commit it has not seen.
 */
export class LocalBranch {
  readonly ref: string

  constructor(
    private readonly gitdir: string,
    branch: string,
    private readonly registry: string,
    private readonly log: Logger,
  ) {
    this.ref = `refs/heads/${branch}`
  }

  /** The commit the branch holds now, or `undefined` before its first commit. */
  read(): Promise<string | undefined> {
    return readRef(this.gitdir, this.ref, this.registry)
  }

  /** Moves the branch from `from` (`undefined`: it must not exist yet) to `to`; false if it holds anything else. */
  swap(from: string | undefined, to: string, signal?: AbortSignal): Promise<boolean> {
    return compareAndSwapRef(this.gitdir, { ref: this.ref, from, to }, this.options(signal))
  }

  /**
   * Moves the branch to what `next` answers for its tip (`undefined`: leave it), deciding under the
   * branch's lock: nobody moves it meanwhile. Returns the answer.
   */
  update(
    next: (tip: string | undefined) => Promise<string | undefined>,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    return updateRef(this.gitdir, this.ref, next, this.options(signal))
  }

  /**
   * Points the branch at `remote`, a commit just fetched from or pushed to the remote, if it still
   * holds `seen`, what it held before that exchange. `seen` came from the remote earlier, so the
   * move goes forward. When the swap fails, a writer sharing the directory moved the branch during
   * the exchange, to what it learned from the remote then, and the branch is left there: behind at
   * worst, until the next sync, never backwards. The remote holds every commit either way, so a
   * failure here is logged and not thrown.
   */
  async follow(seen: string | undefined, remote: string, signal?: AbortSignal): Promise<void> {
    if (seen === remote) return
    const moved = await this.swap(seen, remote, signal).catch((err: unknown) => {
      this.log.error('local branch left at %s: %s', seen, (err as Error).message)
      return true
    })
    if (!moved) this.log('local branch moved by another writer meanwhile; left where it is')
  }

  private options(signal: AbortSignal | undefined) {
    return { registry: this.registry, ...(signal === undefined ? {} : { signal }) }
  }
}
