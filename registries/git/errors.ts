import { MeshError } from '../../src/errors/base.js'

/** The registry directory cannot hold the repository (a file, a working copy, not writable). */
export class GitRepositoryError extends MeshError {
  override name = 'GitRepositoryError'
  constructor(registry: string, dir: string, reason: string, cause?: unknown) {
    super('E_GIT_REPOSITORY', `Git registry ${registry} cannot use ${dir}: ${reason}`, {
      details: { registry, dir },
      hint: 'Point `dir` at an empty directory (it is created if missing) or at a bare repository this registry created.',
      cause,
    })
  }
}

/** The remote did not answer, or answered with an error other than authentication. */
export class GitRemoteError extends MeshError {
  override name = 'GitRemoteError'
  constructor(registry: string, url: string, operation: string, reason: string, cause?: unknown) {
    super('E_GIT_REMOTE', `Git registry ${registry} failed to ${operation} ${url}: ${reason}`, {
      details: { registry, url, operation },
      hint: 'Check that the URL is right and the server is up; lookups keep serving the last synced index meanwhile.',
      cause,
    })
  }
}

/** The remote refused the credentials (HTTP 401 or 403). */
export class GitAuthError extends MeshError {
  override name = 'GitAuthError'
  constructor(registry: string, url: string, status: number, cause?: unknown) {
    super('E_GIT_AUTH', `Git registry ${registry} was refused by ${url} (HTTP ${status})`, {
      details: { registry, url, status },
      hint: 'Set `headers` (e.g. { Authorization: "Bearer <token>" }) or `onAuth` in the gitRegistry options.',
      cause,
    })
  }
}

/** Every push attempt was rejected because other publishers kept moving the remote branch. */
export class GitPushConflictError extends MeshError {
  override name = 'GitPushConflictError'
  constructor(registry: string, name: string, attempts: number, cause?: unknown) {
    super(
      'E_GIT_PUSH_CONFLICT',
      `Git registry ${registry} could not push ${name} after ${attempts} attempts`,
      {
        details: { registry, name, attempts },
        hint: 'The remote branch moved on every attempt. Publish again, or raise `maxPushAttempts`.',
        cause,
      },
    )
  }
}

/**
 * A ref's lock file (`<ref>.lock`) stayed in place for longer than a publish waits: another writer
 * is stuck, or one crashed while holding it. Locks are never broken automatically.
 */
export class GitRefLockedError extends MeshError {
  override name = 'GitRefLockedError'
  constructor(registry: string, ref: string, lock: string, since: Date | undefined, cause?: unknown) {
    super('E_GIT_REF_LOCKED', `Git registry ${registry} could not update ${ref}: ${lock} exists`, {
      details: { registry, ref, lock, lockedSince: since?.toISOString() },
      hint: 'Another fmesh or git process is updating this ref. If none is running, one crashed while holding the lock: remove the lock file and publish again.',
      cause,
    })
  }
}

/** A file under `records/` whose path is not the path of a function name. */
export class GitRecordPathError extends MeshError {
  override name = 'GitRecordPathError'
  constructor(path: string, reason: string) {
    super('E_GIT_RECORD_PATH', `${path} is not a record path: ${reason}`, {
      details: { path, rule: 'records/<namespace>/<path>.json, lowercase, as the record name' },
      hint: 'Move the file to the path of its record name, e.g. records/acme.com/image/sharpen.json.',
    })
  }
}

/** A record with the same seq as the one already accepted for the name, but different content. */
export class SeqReusedError extends MeshError {
  override name = 'SeqReusedError'
  constructor(name: string, seq: number, origin: string) {
    super('E_SEQ_REUSED', `Record ${name} reuses seq ${seq} for different content`, {
      details: { name, seq, origin },
      hint: 'Publishers must raise seq with every change; the record already accepted at this seq is kept.',
    })
  }
}
