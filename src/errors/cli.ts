import { MeshError } from './base.js'

/** What a CLI error carries besides its message: the facts, what to do, and the error behind it. */
export interface CliErrorOptions {
  details?: Record<string, unknown>
  hint?: string
  cause?: unknown
}

const options = (o: CliErrorOptions) => ({
  ...(o.details === undefined ? {} : { details: o.details }),
  ...(o.hint === undefined ? {} : { hint: o.hint }),
  ...(o.cause === undefined ? {} : { cause: o.cause }),
})

/**
 * A command line that is wrong: an unknown flag, a stray argument, a missing or bad value, flags that
 * do not go together. `fmesh` exits 2.
 *
 * @example
 * ```ts
 * throw new UsageError('--limit must be a whole number', { flag: '--limit' }, 'e.g. --limit 50')
 * ```
 */
export class UsageError extends MeshError {
  override name = 'UsageError'
  constructor(message: string, details: Record<string, unknown> = {}, hint?: string, cause?: unknown) {
    super('E_USAGE', message, options({ details, ...(hint === undefined ? {} : { hint }), cause }))
  }
}

/** `fmesh init` refuses to replace a config it did not just write. */
export class ConfigExistsError extends MeshError {
  override name = 'ConfigExistsError'
  constructor(file: string) {
    super('E_USAGE', `${file} already exists`, {
      details: { file },
      hint: 'Edit it, or pass --force to replace it (its data dir is left as it is).',
    })
  }
}

/** Ctrl-C (or SIGTERM) during `fmesh call`: the call was cancelled, and the ledger says how it ended. */
export class CallInterruptedError extends MeshError {
  override name = 'CallInterruptedError'
  constructor(name: string, cause: unknown) {
    super('E_INTERRUPTED', `Interrupted: the call to ${name} was cancelled before it completed`, {
      details: { name, reason: (cause as { code?: string })?.code ?? String(cause) },
      hint: 'Nothing was charged; the attempt is in the lineage as failed (`fmesh lineage verify` checks it).',
      cause,
    })
  }
}

/** A file a command was pointed at (a key, a record, a tokens file, an @FILE value) cannot be read. */
export class FileReadError extends MeshError {
  override name = 'FileReadError'
  constructor(message: string, o: CliErrorOptions) {
    super('E_FILE_READ', message, options(o))
  }
}

/** A file a command writes (a key, a record draft) cannot be written. */
export class FileWriteError extends MeshError {
  override name = 'FileWriteError'
  constructor(message: string, o: CliErrorOptions) {
    super('E_FILE_WRITE', message, options(o))
  }
}

/** A file that must hold JSON (a record, a tokens file) does not, or not the JSON expected. */
export class FileNotJsonError extends MeshError {
  override name = 'FileNotJsonError'
  constructor(message: string, o: CliErrorOptions) {
    super('E_FILE_NOT_JSON', message, options(o))
  }
}

/** A flag's value that must be JSON (`--input`, `--event`) is not. */
export class InputNotJsonError extends MeshError {
  override name = 'InputNotJsonError'
  constructor(message: string, o: CliErrorOptions) {
    super('E_INPUT_NOT_JSON', message, options(o))
  }
}

/** A key file that is not an ed25519 JWK of the kind the command needs. */
export class KeyFileError extends MeshError {
  override name = 'KeyFileError'
  constructor(file: string, reason: string, cause?: unknown) {
    super('E_KEY_INVALID', `${file} is not an ed25519 key file: ${reason}`, {
      details: { file, reason },
      hint: 'Give a JWK file written by `fmesh keys new` or `fmesh init --namespace NS`.',
      ...(cause === undefined ? {} : { cause }),
    })
  }
}

/** A `--key` that is neither a did:key nor a publisher's key file. */
export class KeyFileInvalidError extends MeshError {
  override name = 'KeyFileInvalidError'
  constructor(value: string, cause: unknown) {
    super('E_KEY_FILE_INVALID', `${value} is not a publisher key file`, {
      details: { file: value, reason: (cause as Error)?.message ?? String(cause) },
      hint: 'Pass a did:key (did:key:z6Mk...) or the private JWK `fmesh keys new --out` wrote.',
      cause,
    })
  }
}

/** A record draft (`fmesh record lint`) that is not a valid record, with where in the file. */
export class RecordLintError extends MeshError {
  override name = 'RecordLintError'
  constructor(file: string, at: { line: number; column: number } | undefined, field: string, rule: string) {
    const where = at === undefined ? file : `${file}:${at.line}:${at.column}`
    super('E_RECORD_SCHEMA', `${where}: ${field === '(root)' ? '' : `${field} `}${rule}`, {
      details: { file, field, rule, ...(at === undefined ? {} : at) },
      hint: 'Fix the field named above; `fmesh record new NAME` prints a complete draft to start from.',
    })
  }
}

/** `fmesh yank|deprecate NAME@VERSION` names no version of the record. */
export class VersionNotInRecordError extends MeshError {
  override name = 'VersionNotInRecordError'
  constructor(name: string, version: string, versions: string[]) {
    super('E_NO_MATCHING_VERSION', `${name} has no version ${version}`, {
      details: { name, version, versions },
      hint: `Name one of its versions exactly: ${versions.join(', ')}.`,
    })
  }
}

/** `fmesh dispatch --gateway URL`: nothing answers there. */
export class GatewayUnreachableError extends MeshError {
  override name = 'GatewayUnreachableError'
  constructor(url: string, base: string, cause: unknown) {
    super('E_GATEWAY_UNREACHABLE', `No gateway answers at ${base}`, {
      details: { url, reason: (cause as Error)?.message ?? String(cause) },
      hint: 'Start one with `fmesh gateway`, or fix --gateway.',
      cause,
    })
  }
}

/** `fmesh node status | peers` with no node running on the data dir. */
export class NodeNotRunningError extends MeshError {
  override name = 'NodeNotRunningError'
  constructor(dataDir: string, reason: string) {
    super('E_NODE_NOT_RUNNING', `No node is running on the data dir ${dataDir}`, {
      details: { dataDir, reason },
      hint: 'Start one with `fmesh node start` (same config), then ask again.',
    })
  }
}

/** `fmesh node start` on a data dir a live node already serves. */
export class NodeAlreadyRunningError extends MeshError {
  override name = 'NodeAlreadyRunningError'
  constructor(dataDir: string, pid: number, peerId: string) {
    super('E_NODE_RUNNING', `A node (pid ${pid}) already runs on the data dir ${dataDir}`, {
      details: { dataDir, pid, peerId },
      hint: 'Use that node (commands go through it), stop it first, or give this one another data dir.',
    })
  }
}

/** The node on the data dir stopped answering in the middle of a command. */
export class NodeUnreachableError extends MeshError {
  override name = 'NodeUnreachableError'
  constructor(url: string, peerId: string, cause: unknown) {
    super('E_NODE_UNREACHABLE', `The node ${peerId} stopped answering at ${url}`, {
      details: { url, peerId, reason: (cause as Error)?.message ?? String(cause) },
      hint: 'Check the `fmesh node start` process; run the command again (with --offline to skip the node).',
      cause,
    })
  }
}
