import type { ArgDef, CommandDef, Resolvable } from 'citty'
import { closest } from 'fastest-levenshtein'
import { UsageError } from '../errors/cli.js'

// UsageError lives with the other CLI errors; imported from here by the commands that had it.
export { UsageError }

const resolved = <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  Promise.resolve(typeof value === 'function' ? (value as () => T | Promise<T>)() : value)

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** The command `argv` names (`keys new` in `keys new --out k.jwk`), the names on the way, and its own tokens. */
export async function commandOf(
  root: CommandDef,
  argv: readonly string[],
): Promise<{ command: CommandDef; path: string[]; rest: string[] }> {
  let command = root
  const path: string[] = []
  let rest = [...argv]
  for (;;) {
    const subCommands = await resolved(command.subCommands)
    if (subCommands === undefined || Object.keys(subCommands).length === 0) break
    const args = (await resolved(command.args)) ?? {}
    const at = subCommandIndex(rest, args)
    if (at === -1) break
    const name = rest[at]!
    const sub = subCommands[name]
    if (sub === undefined) {
      const known = Object.keys(subCommands)
      throw new UsageError(
        `Unknown command ${[...path, name].join(' ')}; did you mean ${[...path, closest(name, known)].join(' ')}?`,
        { command: [...path, name].join(' '), known },
        `Commands${path.length > 0 ? ` of fmesh ${path.join(' ')}` : ''}: ${known.join(', ')}. Run \`fmesh ${path.join(' ')}${path.length > 0 ? ' ' : ''}--help\`.`,
      )
    }
    path.push(name)
    command = (await resolved(sub))!
    rest = rest.slice(at + 1)
  }
  return { command, path, rest }
}

/** Where citty finds the subcommand: the first token that is neither a flag nor a flag's value. */
function subCommandIndex(argv: readonly string[], args: Record<string, ArgDef>): number {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') return -1
    if (token.startsWith('-')) {
      if (!token.includes('=') && takesValue(args, token.replace(/^-{1,2}/, ''))) i++
      continue
    }
    return i
  }
  return -1
}

function takesValue(args: Record<string, ArgDef>, name: string): boolean {
  const def = findFlag(args, name)
  return def !== undefined && (def.type === 'string' || def.type === 'enum')
}

function findFlag(args: Record<string, ArgDef>, name: string): ArgDef | undefined {
  for (const [key, def] of Object.entries(args)) {
    if (def.type === 'positional') continue
    if (key === name || kebab(key) === name || camel(key) === camel(name)) return def
    const alias = 'alias' in def ? def.alias : undefined
    if ((Array.isArray(alias) ? alias : alias === undefined ? [] : [alias]).includes(name)) return def
  }
  return undefined
}

/**
 * Refuses what citty would silently accept: an unknown flag (naming the nearest known one), a string
 * flag with no value, a positional argument the command does not take. `--help` never reaches here.
 */
export async function checkArgv(root: CommandDef, argv: readonly string[]): Promise<void> {
  const { command, path, rest } = await commandOf(root, argv)
  const args = ((await resolved(command.args)) ?? {}) as Record<string, ArgDef>
  const where = `fmesh ${path.join(' ')}`.trim()
  const help = `Run \`${where} --help\` for its flags.`
  const flags = Object.entries(args)
    .filter(([, d]) => d.type !== 'positional')
    .map(([k]) => `--${kebab(k)}`)
  const positionals = Object.entries(args).filter(([, d]) => d.type === 'positional')
  const subCommands = await resolved(command.subCommands)
  const given: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (token === '--') {
      given.push(...rest.slice(i + 1))
      break
    }
    if (token.startsWith('-') && token !== '-') {
      const [flag, value] = token.split(/=(.*)/s, 2) as [string, string | undefined]
      const name = flag.replace(/^-{1,2}/, '')
      let def = findFlag(args, name)
      if (def === undefined && name.startsWith('no-')) {
        const negated = findFlag(args, name.slice(3))
        if (negated?.type === 'boolean') def = negated
      }
      if (def === undefined) {
        const nearest =
          flags.length === 0 ? undefined : closest(flag.startsWith('--') ? flag : `--${name}`, flags)
        throw new UsageError(
          `Unknown flag ${flag} for ${where}${nearest === undefined ? '' : `; did you mean ${nearest}?`}`,
          { command: where, flag, known: flags },
          help,
        )
      }
      if ((def.type === 'string' || def.type === 'enum') && value === undefined) {
        const next = rest[i + 1]
        if (next === undefined || (next.startsWith('--') && next.length > 2))
          throw new UsageError(`${flag} needs a value`, { command: where, flag }, help)
        i++
      }
      continue
    }
    given.push(token)
  }
  if (
    given.length > positionals.length &&
    !(subCommands !== undefined && Object.keys(subCommands).length > 0)
  ) {
    const stray = given.slice(positionals.length)
    throw new UsageError(
      `Unexpected argument ${stray[0] ?? ''} for ${where}: it takes ${
        positionals.length === 0 ? 'no arguments' : positionals.map(([k]) => k.toUpperCase()).join(' ')
      }`,
      { command: where, unexpected: stray },
      `Quote a value that has spaces; ${help.charAt(0).toLowerCase()}${help.slice(1)}`,
    )
  }
}
