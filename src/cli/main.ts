#!/usr/bin/env node
import '../_polyfill.js'
import { readFileSync } from 'node:fs'
import { type CommandDef, defineCommand, type Resolvable, renderUsage, runCommand } from 'citty'
import { printError } from './_output.js'

/** The package version, from the package.json above this file (src/cli or dist/src/cli). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'function-mesh' && pkg.version) return pkg.version
    } catch {}
  }
  return '0.0.0'
}

const version = packageVersion()

const main = defineCommand({
  meta: { name: 'fmesh', version, description: 'function-mesh: DNS for functions' },
  // Each command's module loads only when it runs (help loads them all for their descriptions), so
  // `fmesh keys new` loads neither the mesh nor any registry kind.
  subCommands: {
    resolve: () => import('./resolveCommand.js').then((m) => m.resolveCommand),
    call: () => import('./callCommand.js').then((m) => m.callCommand),
    publish: () => import('./publishCommand.js').then((m) => m.publishCommand),
    lineage: () => import('./callCommand.js').then((m) => m.lineageCommand),
    usage: () => import('./callCommand.js').then((m) => m.usageCommand),
    ls: () => import('./listCommand.js').then((m) => m.listCommand),
    namespace: () => import('./namespaceCommand.js').then((m) => m.namespaceCommand),
    keys: () => import('./keys.js').then((m) => m.keysCommand),
    demo: () => import('./demo.js').then((m) => m.demoCommand),
  },
})

const resolved = <T>(value: Resolvable<T>): Promise<T> =>
  Promise.resolve(typeof value === 'function' ? (value as () => T | Promise<T>)() : value)

/** The (sub)command `args` name, e.g. `keys new` in `keys new --out k.jwk --help`, and its parent. */
async function commandNamed(args: readonly string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let command: CommandDef = main as CommandDef
  let parent: CommandDef | undefined
  for (const arg of args) {
    if (arg.startsWith('-')) continue
    const sub = (await resolved(command.subCommands ?? {}))[arg]
    if (sub === undefined) break
    parent = command
    command = await resolved(sub)
  }
  return [command, parent]
}

const rawArgs = process.argv.slice(2)
const json = rawArgs.includes('--json')
const flags = rawArgs.includes('--') ? rawArgs.slice(0, rawArgs.indexOf('--')) : rawArgs
if (rawArgs.length === 0 || flags.includes('--help') || flags.includes('-h')) {
  // Help for the command named, never a run of it: `fmesh keys new --help` must not print a new key.
  process.stdout.write(`${await renderUsage(...(await commandNamed(flags)))}\n`)
} else if (rawArgs[0] === '--version' || rawArgs[0] === '-v') {
  process.stdout.write(`${version}\n`)
} else {
  try {
    await runCommand(main, { rawArgs })
  } catch (err) {
    printError(err, json)
    process.exitCode = (err as { name?: string })?.name === 'CLIError' ? 2 : 1
  }
}
