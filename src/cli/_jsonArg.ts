import { readFile } from 'node:fs/promises'
import { FileReadError, InputNotJsonError } from '../errors/cli.js'

/** A flag whose value is JSON, or `@FILE` for JSON in a file (`--input @in.json`, `--context @ctx.json`). */
export async function jsonArg(flag: string, text: string): Promise<unknown> {
  let source = text
  if (text.startsWith('@')) {
    const file = text.slice(1)
    try {
      source = await readFile(file, 'utf8')
    } catch (err) {
      throw new FileReadError(`Cannot read ${file} (the ${flag} value)`, {
        details: { flag, file, reason: (err as Error).message },
        hint: `Give ${flag} JSON inline, or @FILE naming a file that exists.`,
        cause: err,
      })
    }
  }
  try {
    return JSON.parse(source)
  } catch (err) {
    throw new InputNotJsonError(`The ${flag} value is not JSON`, {
      details: { flag, value: source.slice(0, 120), reason: (err as Error).message },
      hint: `Quote it for the shell: ${flag} '{"text":"hi"}', or give @FILE.`,
      cause: err,
    })
  }
}
