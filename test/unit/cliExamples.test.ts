import type { CommandDef, Resolvable } from 'citty'
import { describe, expect, it } from 'vitest'
import { checkArgv } from '../../src/cli/_argv.js'
import { main } from '../../src/cli/_commands.js'
import { EXAMPLES } from '../../src/cli/_examples.js'

const resolved = <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  Promise.resolve(typeof value === 'function' ? (value as () => T | Promise<T>)() : value)

async function commandPaths(command: CommandDef, path: string[] = []): Promise<string[]> {
  const subCommands = await resolved(command.subCommands)
  const paths = [path.join(' ')]
  if (subCommands !== undefined)
    for (const [name, sub] of Object.entries(subCommands))
      paths.push(...(await commandPaths((await resolved(sub))!, [...path, name])))
  return paths
}

/** The words of an `fmesh ...` example line as a shell would split them (quotes, a trailing # comment). */
function words(line: string): string[] {
  const out: string[] = []
  for (const m of line.replace(/\s+#.*$/, '').matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g))
    out.push(m[1] ?? m[2] ?? m[3]!)
  return out
}

describe('fmesh --help examples', () => {
  it('every command has examples, and each fmesh line in them is a command line fmesh accepts', async () => {
    const paths = await commandPaths(main as CommandDef)
    expect(paths.filter((p) => (EXAMPLES[p] ?? []).length === 0)).toEqual([])
    expect(Object.keys(EXAMPLES).filter((k) => !paths.includes(k))).toEqual([])
    for (const lines of Object.values(EXAMPLES))
      for (const line of lines) {
        if (!line.startsWith('fmesh ')) continue
        await expect(checkArgv(main as CommandDef, words(line).slice(1)), line).resolves.toBeUndefined()
      }
  })
})
