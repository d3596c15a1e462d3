import { MeshError } from '../errors/base.js'

/** Where a command writes: human text, or one JSON document with `--json`. */
export interface Output {
  readonly json: boolean
  /** A line for people (suppressed with --json). */
  line(text?: string): void
  /** The command's result: printed as JSON with --json, else by `human`. */
  result(value: unknown, human?: (value: unknown) => void): void
}

export function output(
  json: boolean,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Output {
  return {
    json,
    line(text = '') {
      if (!json) write(`${text}\n`)
    },
    result(value, human) {
      if (json) write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
      else if (human !== undefined) human(value)
    },
  }
}

/** bigint as decimal strings, bytes as their length, errors as their JSON form. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return { bytes: value.byteLength }
  if (value instanceof MeshError) return value.toJSON()
  return value
}

/** Prints an error for people or as JSON on stderr. */
export function printError(err: unknown, json: boolean): void {
  if (json) {
    const body =
      err instanceof MeshError
        ? err.toJSON()
        : {
            name: 'Error',
            code: (err as Error)?.name === 'CLIError' ? 'E_USAGE' : 'E_INTERNAL',
            message: String((err as Error)?.message ?? err),
          }
    process.stderr.write(`${JSON.stringify({ error: body }, jsonReplacer, 2)}\n`)
    return
  }
  if (err instanceof MeshError) {
    // One line for what went wrong, one for what to do; the details are in --json (or DEBUG=fmesh:*).
    const verbose = (process.env.DEBUG ?? '').includes('fmesh')
    const hint = err.hint === undefined ? '' : `  ${err.hint}\n`
    process.stderr.write(
      verbose ? `error ${err.code}: ${err.message}\n` : `error ${err.code}: ${err.shortMessage}\n${hint}`,
    )
  } else if ((err as Error)?.name === 'CLIError') {
    process.stderr.write(
      `error: ${(err as Error).message}\n  Run \`fmesh --help\` for the commands and their flags.\n`,
    )
  } else process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`)
}
