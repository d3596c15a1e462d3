#!/usr/bin/env node
import '../_polyfill.js'
import { readFileSync } from 'node:fs'
import { defineCommand, renderUsage, runCommand } from 'citty'
import { printError } from './_output.js'
import { callCommand, lineageCommand, usageCommand } from './callCommand.js'
import { demoCommand } from './demo.js'
import { keysCommand } from './keys.js'
import { listCommand } from './listCommand.js'
import { publishCommand } from './publishCommand.js'
import { resolveCommand } from './resolveCommand.js'

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
  subCommands: {
    resolve: resolveCommand,
    call: callCommand,
    publish: publishCommand,
    lineage: lineageCommand,
    usage: usageCommand,
    ls: listCommand,
    keys: keysCommand,
    demo: demoCommand,
  },
})

const rawArgs = process.argv.slice(2)
const json = rawArgs.includes('--json')
if (rawArgs.length === 0 || rawArgs[0] === '--help' || rawArgs[0] === '-h') {
  process.stdout.write(`${await renderUsage(main)}\n`)
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
