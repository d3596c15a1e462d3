import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { throwIfAborted } from '../../src/abort.js'
import { GitRefLockedError, GitRepositoryError } from './errors.js'

/**
 * Sleep a writer spends, in total, retrying a ref whose lock another writer holds. A lock is held
 * for a read, a decision (at most a publish building its commit on the tip), a 41-byte write, an
 * fsync and a rename, so a wait this long means the holder is stuck or gone; the lock is never
 * broken (see {@link updateRef}). @default 2000
 */
export const DEFAULT_REF_LOCK_WAIT_MS = 2_000

/**
 * The longest single sleep between two tries of a held lock. Short, so that a writer that has
 * waited a while still notices a release about as soon as one that just arrived. @default 10
 */
const MAX_BACKOFF_MS = 10

const OID = /^[0-9a-f]{40}$/

/** One compare-and-swap of a ref, as `git update-ref <ref> <to> <from>` does it. */
export interface RefUpdate {
  /** A full ref name, e.g. `refs/heads/main`. */
  readonly ref: string
  /** What the ref must hold now: a commit id, or `undefined` when it must not exist yet. */
  readonly from: string | undefined
  readonly to: string
}

export interface RefLockOptions {
  /** The registry id, for errors. */
  readonly registry: string
  /** @default DEFAULT_REF_LOCK_WAIT_MS */
  readonly waitMs?: number
  readonly signal?: AbortSignal
}

/**
 * The commit id a ref holds, read the way git reads it: the loose file `<gitdir>/<ref>` first, else
 * its line in `packed-refs`; `undefined` when neither has it.
 */
export async function readRef(gitdir: string, ref: string, registry = 'git'): Promise<string | undefined> {
  const loose = await readIfExists(join(gitdir, ref))
  if (loose !== undefined) {
    const oid = loose.trim()
    if (!OID.test(oid)) {
      throw new GitRepositoryError(registry, gitdir, `${ref} holds "${oid.slice(0, 80)}", not a commit id`)
    }
    return oid
  }
  const packed = await readIfExists(join(gitdir, 'packed-refs'))
  if (packed === undefined) return undefined
  for (const line of packed.split('\n')) {
    // '#' starts the header, '^' a peeled tag under the line before.
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue
    const space = line.indexOf(' ')
    if (line.slice(space + 1) === ref) return line.slice(0, space)
  }
  return undefined
}

/**
 * Moves `update.ref` from `update.from` to `update.to`, or leaves it and returns false when it holds
 * anything else: {@link updateRef} with that decision.
 */
export async function compareAndSwapRef(
  gitdir: string,
  update: RefUpdate,
  options: RefLockOptions,
): Promise<boolean> {
  const next = (current: string | undefined) => (current === update.from ? update.to : undefined)
  return (await updateRef(gitdir, update.ref, next, options)) !== undefined
}

/**
 * Moves `ref` to what `next` answers for the commit it holds now (`undefined`: leave it), and
 * returns that answer. Git's own protocol, so it also excludes system git and other processes:
 * create `<ref>.lock` exclusively, read the current value under it, decide, write the new value
 * into the lock, fsync, rename it over the ref. Nobody moves the ref between the read and the
 * rename; every failure, `next` throwing included, removes the lock.
 *
 * A lock held by someone else is retried with a short backoff for `waitMs` of sleep, then reported
 * as {@link GitRefLockedError}. A lock is never taken over however old it is, as git never does:
 * its holder may be slow rather than dead, and a broken lock lets two writers in at once.
 */
export async function updateRef(
  gitdir: string,
  ref: string,
  next: (current: string | undefined) => string | undefined | Promise<string | undefined>,
  options: RefLockOptions,
): Promise<string | undefined> {
  const path = join(gitdir, ref)
  const lock = `${path}.lock`
  const handle = await acquire(lock, ref, options)
  let renamed = false
  try {
    const to = await next(await readRef(gitdir, ref, options.registry))
    if (to === undefined) return undefined
    // A malformed value written into a ref breaks the repository for every reader, git included.
    if (!OID.test(to)) throw new Error(`not a commit id: ${to}`)
    await handle.writeFile(`${to}\n`)
    // Renamed before its bytes reach the disk, a ref can be empty after a power cut.
    await handle.sync()
    await handle.close()
    await rename(lock, path)
    renamed = true
    return to
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined)
      await unlink(lock).catch(() => undefined)
    }
  }
}

/** Creates `lock` exclusively (O_CREAT|O_EXCL), waiting with backoff while another writer holds it. */
async function acquire(lock: string, ref: string, options: RefLockOptions): Promise<FileHandle> {
  const what = `${options.registry} update of ${ref}`
  const waitMs = options.waitMs ?? DEFAULT_REF_LOCK_WAIT_MS
  let slept = 0
  let madeDir = false
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(options.signal, what)
    try {
      return await open(lock, 'wx')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && !madeDir) {
        // A ref in a folder that does not exist yet (refs/heads/team/main).
        await mkdir(dirname(lock), { recursive: true })
        madeDir = true
        continue
      }
      if (code !== 'EEXIST') throw err
      if (slept >= waitMs) throw new GitRefLockedError(options.registry, ref, lock, await modified(lock), err)
      // Counted in sleeps, not read from a clock: the bound holds however loaded the machine is.
      const delay = Math.min(2 ** attempt, MAX_BACKOFF_MS, waitMs - slept)
      slept += delay
      await sleep(delay, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(
        (e: unknown) => {
          throwIfAborted(options.signal, what)
          throw e
        },
      )
    }
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** When the lock file was written, to tell a crashed writer's leftover from a busy one. */
async function modified(file: string): Promise<Date | undefined> {
  return (await stat(file).catch(() => undefined))?.mtime
}
