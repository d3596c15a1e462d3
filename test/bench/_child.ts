import '../../src/_polyfill.js'
import { format } from 'node:util'
import { ratioFromLine } from './_capture.js'
import * as harness from './_harness.js'

// One bench file in its own process (started by run.ts with an IPC channel): rows go to the runner as
// they are recorded; `ratio ... Nx` lines the bench prints itself become rows too; a throw, an
// unhandled rejection or an uncaught exception becomes an error row and a non-zero exit.
const file = process.argv[2]!
const log = console.log.bind(console)
console.log = (...args: unknown[]) => {
  log(...args)
  if (harness.printing) return
  for (const line of format(...args).split('\n')) {
    const row = ratioFromLine(line)
    if (row !== undefined) harness.record(row)
  }
}

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    if (process.send === undefined) resolve()
    else process.send(message, () => resolve())
  })

async function fail(what: string, err: unknown): Promise<never> {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
  console.error(`  ${what}: ${message}`)
  const cause = (err as { cause?: unknown })?.cause
  const first = err instanceof Error ? err.message.split('\n')[0]! : String(err)
  harness.record({
    name: `${harness.results.group}: ${what}`,
    value: Number.NaN,
    unit: '',
    error: cause instanceof Error ? `${first} (cause: ${cause.message.split('\n')[0]})` : first,
  })
  await send({ kind: 'done', ok: false })
  process.exit(1)
}

process.on('uncaughtException', (err) => void fail('uncaught exception', err))
process.on('unhandledRejection', (err) => void fail('unhandled rejection', err))

try {
  const mod = (await import(file)) as { default: () => Promise<void> }
  await mod.default()
} catch (err) {
  await fail('threw', err)
}
await send({ kind: 'done', ok: true, exitCode: process.exitCode ?? 0 })
// Whatever the bench left open (sockets, timers, worker threads) must not keep the run waiting.
process.exit(0)
