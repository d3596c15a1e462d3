#!/usr/bin/env node
import '../_polyfill.js'
import { type CommandDef, renderUsage, runCommand } from 'citty'
import { checkArgv, commandOf } from './_argv.js'
import { main, version } from './_commands.js'
import { interrupt } from './_context.js'
import { examplesOf } from './_examples.js'
import { EXIT, exitCodeOf } from './_exitCodes.js'
import { printError } from './_output.js'

// `fmesh resolve x | head -1`: a closed pipe ends the command quietly, not with an EPIPE stack.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok)
    throw err
  })

// Ctrl-C (or SIGTERM) once: commands see `interrupt.signal` fire and stop what is in flight, saying
// what happened to it; a second Ctrl-C exits at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted)
    process.stderr.write(
      `\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: stopping (again to quit at once)\n`,
    )
    interrupt.abort()
  })

/** A command's meta, whether given as an object or a function. */
async function resolvedMeta(command: CommandDef): Promise<object> {
  const meta = command.meta
  return (typeof meta === 'function' ? await meta() : await meta) ?? {}
}

/** Help text, without colour unless stdout is a terminal and NO_COLOR is unset. */
function plain(text: string): string {
  const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is stripped
  return colour ? text : text.replace(/\u001b\[[0-9;]*m/g, '')
}

const rawArgs = process.argv.slice(2)
const json = rawArgs.includes('--json')
const flags = rawArgs.includes('--') ? rawArgs.slice(0, rawArgs.indexOf('--')) : rawArgs
try {
  if (rawArgs.length === 0 || flags.includes('--help') || flags.includes('-h')) {
    // Help for the command named, never a run of it: `fmesh keys new --help` must not print a new key.
    const named = await commandOf(
      main as CommandDef,
      flags.filter((f) => f !== '--help' && f !== '-h'),
    )
    const above =
      named.path.length === 0
        ? undefined
        : (await commandOf(main as CommandDef, named.path.slice(0, -1))).command
    // The usage line names the whole command (`fmesh node status`), not only its parent.
    const parent =
      above === undefined
        ? undefined
        : {
            ...above,
            meta: { ...(await resolvedMeta(above)), name: ['fmesh', ...named.path.slice(0, -1)].join(' ') },
          }
    const examples = examplesOf(named.path)
    process.stdout.write(`${plain(await renderUsage(named.command, parent as CommandDef))}\n${examples}`)
  } else if (rawArgs[0] === '--version' || rawArgs[0] === '-v') {
    process.stdout.write(`${version}\n`)
  } else {
    await checkArgv(main as CommandDef, rawArgs)
    await runCommand(main, { rawArgs })
  }
} catch (err) {
  printError(err, json)
  process.exitCode = exitCodeOf(err)
}
