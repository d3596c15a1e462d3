/** Where an error happened: a record path, a registry, a peer, a CLI argument. */
export type ErrorDetails = Record<string, unknown>

export interface MeshErrorOptions {
  /** Machine-readable facts about the failure (field, value, registry, ...). */
  details?: ErrorDetails
  /** What the user should do next. Shown on its own line in `message`. */
  hint?: string
  cause?: unknown
}

/** The JSON form of a {@link MeshError}: what crosses the peer wire and `--json` output. */
export interface MeshErrorJSON {
  name: string
  code: string
  shortMessage: string
  message: string
  details: ErrorDetails
  hint?: string
  cause?: MeshErrorJSON | { name: string; message: string }
}

/**
 * The one base class of every error the mesh raises on purpose. `code` is stable and safe to
 * branch on; `shortMessage` is one line; `message` adds the details and what to do next.
 *
 * @example
 * ```ts
 * try { parseFunctionName('Bad Name') } catch (err) {
 *   if (err instanceof MeshError && err.code === 'E_NAME_INVALID') console.error(err.message)
 * }
 * ```
 */
export class MeshError extends Error {
  override name = 'MeshError'
  readonly code: string
  readonly shortMessage: string
  readonly details: ErrorDetails
  readonly hint: string | undefined

  constructor(code: string, shortMessage: string, options: MeshErrorOptions = {}) {
    super(formatMessage(shortMessage, options.details, options.hint), { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = options.details ?? {}
    this.hint = options.hint
  }

  toJSON(): MeshErrorJSON {
    const json: MeshErrorJSON = {
      name: this.name,
      code: this.code,
      shortMessage: this.shortMessage,
      message: this.message,
      details: this.details,
    }
    if (this.hint !== undefined) json.hint = this.hint
    const cause = this.cause
    if (cause instanceof MeshError) json.cause = cause.toJSON()
    else if (cause instanceof Error) json.cause = { name: cause.name, message: cause.message }
    return json
  }
}

function formatMessage(short: string, details: ErrorDetails | undefined, hint: string | undefined): string {
  const lines = [short]
  if (details !== undefined) {
    for (const [key, value] of Object.entries(details)) {
      if (value === undefined) continue
      lines.push(`  ${key}: ${describe(value)}`)
    }
  }
  if (hint !== undefined) lines.push('', hint)
  return lines.join('\n')
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}...` : value
  if (typeof value === 'bigint') return value.toString()
  try {
    const text = JSON.stringify(value)
    return text.length > 200 ? `${text.slice(0, 200)}...` : text
  } catch {
    return String(value)
  }
}

/** Whether `err` is a {@link MeshError}, optionally with the given code. */
export function isMeshError(err: unknown, code?: string): err is MeshError {
  return err instanceof MeshError && (code === undefined || err.code === code)
}
