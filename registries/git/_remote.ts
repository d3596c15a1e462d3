import git from 'isomorphic-git'
import { AbortedError } from '../../src/errors/resolve.js'
import type { GitConfig } from './_checkInit.js'
import type { GitContext } from './_context.js'
import { indexFetchedPack, type OnPack, packHandoff } from './_fetchedPack.js'
import { boundHttpClient } from './_http.js'
import { GitAuthError, GitRemoteError } from './errors.js'

/** A push the remote refused because its branch moved: fetch, rebuild, retry. */
export const PUSH_REJECTED = 'rejected' as const

function common(cfg: GitConfig, ctx: GitContext, signal: AbortSignal | undefined, fs = ctx.fs) {
  return {
    fs,
    gitdir: ctx.gitdir,
    cache: ctx.cache,
    http: boundHttpClient(signal, cfg.requestTimeoutMs),
    url: cfg.url!,
    headers: cfg.headers,
    ...(cfg.onAuth === undefined ? {} : { onAuth: cfg.onAuth }),
  }
}

export type { OnPack } from './_fetchedPack.js'

/**
 * Fetches the remote branch into `refs/remotes/origin/<branch>`; returns its commit, or `undefined`
 * when the remote has no such branch yet (an empty repository). The fetched pack is indexed here,
 * natively (see `packHandoff`); `onPack` hears of it as soon as it is written (the remote ref
 * already moved) and may hand back its idx.
 */
export async function fetchBranch(
  cfg: GitConfig,
  ctx: GitContext,
  depth: number,
  signal: AbortSignal | undefined,
  onPack?: OnPack,
): Promise<string | undefined> {
  const tell = cfg.onProgress
  tell?.({ type: 'mesh:registry:sync', registry: cfg.id, phase: 'start', loaded: 0 })
  const handoff = packHandoff(ctx, cfg.branch)
  try {
    const result = await git.fetch({
      ...common(cfg, ctx, signal, handoff.fs),
      ...(tell === undefined
        ? {}
        : {
            onProgress: (p: { phase: string; loaded: number; total: number }) =>
              tell({
                type: 'mesh:registry:sync',
                registry: cfg.id,
                phase: p.phase,
                loaded: p.loaded,
                ...(p.total > 0 ? { total: p.total } : {}),
              }),
          }),
      ref: cfg.branch,
      remoteRef: cfg.branch,
      remote: 'origin',
      singleBranch: true,
      tags: false,
      ...(depth > 0 ? { depth } : {}),
    })
    return result.fetchHead ?? undefined
  } catch (err) {
    const pack = handoff.taken(err)
    if (pack !== undefined) {
      const objects = pack.data.byteLength >= 12 ? pack.data.readUInt32BE(8) : 0
      const phase = { type: 'mesh:registry:sync', registry: cfg.id, phase: 'Indexing objects' } as const
      tell?.({ ...phase, loaded: 0, total: objects })
      try {
        await indexFetchedPack(ctx, pack, onPack)
      } catch (indexErr) {
        throw remoteFailure(cfg, 'fetch from', indexErr, signal)
      }
      tell?.({ ...phase, loaded: objects, total: objects })
      if (signal?.aborted) throw remoteFailure(cfg, 'fetch from', signal.reason, signal)
      return (
        pack.tip ??
        (await git.resolveRef({ fs: ctx.fs, gitdir: ctx.gitdir, ref: `refs/remotes/origin/${cfg.branch}` }))
      )
    }
    if ((err as { code?: string }).code === 'NotFoundError' && /remote|ref/i.test((err as Error).message)) {
      return undefined
    }
    throw remoteFailure(cfg, 'fetch from', err, signal)
  } finally {
    tell?.({ type: 'mesh:registry:sync', registry: cfg.id, phase: 'done', loaded: 0 })
  }
}

/**
 * Pushes `commit` to the remote branch, never forcing. Resolves `PUSH_REJECTED` when the remote moved.
 * The commit id itself is pushed, not a local ref holding it: writers sharing the directory would
 * share that ref too, and one could push the other's commit as its own.
 */
export async function pushBranch(
  cfg: GitConfig,
  ctx: GitContext,
  commit: string,
  signal: AbortSignal | undefined,
): Promise<'pushed' | typeof PUSH_REJECTED> {
  try {
    const result = await git.push({
      ...common(cfg, ctx, signal),
      ref: commit,
      remoteRef: `refs/heads/${cfg.branch}`,
      force: false,
      ...(signal === undefined ? {} : { signal }),
    })
    if (result.ok && result.refs[`refs/heads/${cfg.branch}`]?.ok !== false) return 'pushed'
    return PUSH_REJECTED
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'PushRejectedError' || code === 'GitPushError') return PUSH_REJECTED
    // The remote tip is not in this repository: it moved since the last fetch.
    if (code === 'NotFoundError') return PUSH_REJECTED
    throw remoteFailure(cfg, 'push to', err, signal)
  }
}

/** Turns what isomorphic-git or Node threw into a MeshError that says what failed and where. */
export function remoteFailure(
  cfg: GitConfig,
  operation: string,
  err: unknown,
  signal: AbortSignal | undefined,
): Error {
  if (signal?.aborted) return new AbortedError(`${cfg.id} ${operation.split(' ')[0]}`, signal.reason)
  const url = cfg.url ?? '(none)'
  const e = err as { code?: string; name?: string; message?: string; data?: { statusCode?: number } }
  const status = e.data?.statusCode
  if (e.code === 'HttpError' && (status === 401 || status === 403))
    return new GitAuthError(cfg.id, url, status, err)
  if (e.code === 'HttpError') return new GitRemoteError(cfg.id, url, operation, `HTTP ${status}`, err)
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new GitRemoteError(cfg.id, url, operation, `no answer within ${cfg.requestTimeoutMs} ms`, err)
  }
  const reason =
    e.code !== undefined && /^E[A-Z]+$/.test(e.code) ? `${e.code} (${e.message})` : (e.message ?? String(err))
  return new GitRemoteError(cfg.id, url, operation, reason, err)
}
