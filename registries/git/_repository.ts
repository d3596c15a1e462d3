import { constants } from 'node:fs'
import { access, mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import git from 'isomorphic-git'
import type { Signer } from '../../src/trust/signer.js'
import type { GitContext } from './_context.js'
import { REPOSITORY_README } from './_layout.js'
import type { CommitFields } from './commitSignature.js'
import { signedCommitText, verifyCommitText } from './commitSignature.js'
import { GitRepositoryError } from './errors.js'
import type { CommitCheck } from './types.js'

const decoder = new TextDecoder()

/**
 * What isomorphic-git's init writes, in that order, before HEAD: a directory holding only these
 * (hooks first) is being initialized by another writer starting at the same time.
 */
const INIT_ENTRIES = new Set(['hooks', 'info', 'objects', 'refs', 'config'])

/**
 * Makes sure `dir` holds a bare repository: creates it when the directory is missing or empty (or
 * half-created by another writer), accepts an existing bare repository, refuses anything else.
 */
export async function openRepository(ctx: GitContext, registry: string, branch: string): Promise<void> {
  const dir = ctx.gitdir
  let info: Awaited<ReturnType<typeof stat>> | undefined
  try {
    info = await stat(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new GitRepositoryError(registry, dir, (err as Error).message, err)
    }
  }
  if (info !== undefined && !info.isDirectory())
    throw new GitRepositoryError(registry, dir, 'it is not a directory')
  const names = info === undefined ? [] : await readdir(dir)
  if (names.includes('.git')) {
    throw new GitRepositoryError(
      registry,
      dir,
      'it is a working copy; the registry keeps a bare repository of its own',
    )
  }
  const isBare = names.includes('HEAD') && names.includes('objects') && names.includes('refs')
  const initializing = names.includes('hooks') && names.every((name) => INIT_ENTRIES.has(name))
  if (!isBare && !initializing && names.length > 0) {
    throw new GitRepositoryError(registry, dir, 'it is neither empty nor a bare Git repository')
  }
  try {
    if (!isBare) {
      // Safe beside another writer's init: both create the same folders, and init writes nothing
      // once the other's config exists.
      await mkdir(dir, { recursive: true })
      await git.init({ fs: ctx.fs, gitdir: dir, bare: true, defaultBranch: branch })
    }
    await access(join(dir, 'objects'), constants.W_OK)
  } catch (err) {
    throw new GitRepositoryError(registry, dir, `it is not writable (${(err as Error).message})`, err)
  }
}

/** The commit a ref points at, or `undefined` when the ref does not exist. */
export async function resolveRef(ctx: GitContext, ref: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: ctx.fs, gitdir: ctx.gitdir, ref })
  } catch (err) {
    if ((err as { code?: string }).code === 'NotFoundError') return undefined
    throw err
  }
}

/** The tree of a new registry's first commit: the README that explains the layout. */
export async function readmeTree(ctx: GitContext): Promise<string> {
  const { fs, gitdir } = ctx
  const readme = await git.writeBlob({ fs, gitdir, blob: new TextEncoder().encode(REPOSITORY_README) })
  return git.writeTree({
    fs,
    gitdir,
    tree: [{ mode: '100644', path: 'README.md', oid: readme, type: 'blob' }],
  })
}

/** The tree of a commit. */
export async function treeOf(ctx: GitContext, commit: string): Promise<string> {
  const { commit: object } = await git.readCommit({
    fs: ctx.fs,
    gitdir: ctx.gitdir,
    oid: commit,
    cache: ctx.cache,
  })
  return object.tree
}

/** Writes a commit object, signed by `signer` when given; returns its id. */
export async function writeCommit(ctx: GitContext, fields: CommitFields, signer?: Signer): Promise<string> {
  const text = await signedCommitText(fields, signer)
  return git.writeObject({
    fs: ctx.fs,
    gitdir: ctx.gitdir,
    type: 'commit',
    format: 'content',
    object: new TextEncoder().encode(text),
  })
}

/** The signature status of one commit. */
export async function checkCommit(ctx: GitContext, oid: string): Promise<CommitCheck> {
  const { object } = await git.readObject({
    fs: ctx.fs,
    gitdir: ctx.gitdir,
    oid,
    format: 'content',
    cache: ctx.cache,
  })
  return { oid, signature: verifyCommitText(decoder.decode(object as Uint8Array)) }
}

/**
 * Walks first parents from `tip` back to `previous` (exclusive), checking each commit's signature.
 * `reached` says whether `previous` was found, i.e. the new history extends the old one; the walk
 * also ends at the shallow boundary and after `max` commits (then `reached` is what an ancestry
 * check of `previous` says).
 */
export async function walkNewCommits(
  ctx: GitContext,
  tip: string,
  previous: string | undefined,
  max: number,
): Promise<{ commits: CommitCheck[]; reached: boolean }> {
  const commits: CommitCheck[] = []
  let oid: string | undefined = tip
  while (oid !== undefined && oid !== previous) {
    if (commits.length >= max) {
      const reached =
        previous === undefined ||
        (await git
          .isDescendent({
            fs: ctx.fs,
            gitdir: ctx.gitdir,
            oid,
            ancestor: previous,
            depth: -1,
            cache: ctx.cache,
          })
          .catch(() => false))
      return { commits, reached }
    }
    let parents: string[]
    try {
      commits.push(await checkCommit(ctx, oid))
      parents = (await git.readCommit({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: ctx.cache })).commit
        .parent
    } catch {
      break
    }
    oid = parents[0]
  }
  return { commits, reached: previous === undefined || oid === previous }
}
