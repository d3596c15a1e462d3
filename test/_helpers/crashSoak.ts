import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { openLedger } from '../../src/ledger/Ledger.js'

const here = dirname(fileURLToPath(import.meta.url))
const child = join(here, 'crashChild.ts')

/** What a crash soak found. `problems` is empty when every invariant held. */
export interface SoakReport {
  kills: number
  entries: number
  completed: number
  charges: number
  executions: number
  completedKeys: number
  /** Attempts that a kill interrupted and recovery closed as FUNCTION_FAILED. */
  recovered: number
  problems: string[]
  /** The seed of the kill points: the same seed kills at the same moments (give it to rerun one). */
  seed: number
}

/** mulberry32: a small seeded generator, so a failing soak can be rerun with its kill points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Starts a child making governed calls against one ledger file, SIGKILLs it at a random moment after
 * it began working, restarts it, `kills` times; then reopens the ledger (crash recovery) and checks:
 * the log verifies; every COMPLETED entry has exactly one charge and no charge lacks its entry
 * (verify); no exactly-once or at-least-once key executed twice or completed twice; no attempt is
 * left open; the lease's spent total equals its charges.
 */
export async function runCrashSoak(options: {
  kills: number
  /** Seeds the kill points. @default a random seed, reported in the result */
  seed?: number
  onKill?: (n: number) => void
  startTimeoutMs?: number
}): Promise<SoakReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32)
  const random = seededRandom(seed)
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-crash-'))
  const ledgerPath = join(dir, 'ledger.sqlite')
  const execLog = join(dir, 'executions.log')
  const problems: string[] = []
  try {
    let previous = -1
    for (let n = 0; n < options.kills; n++) {
      const start = n * 100_000
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', child, ledgerPath, execLog, String(start), String(previous)],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: join(here, '..', '..'),
        },
      )
      let stderr = ''
      proc.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString()
      })
      const ready = await waitForReady(proc, options.startTimeoutMs ?? 20_000)
      if (ready !== 'ready') {
        problems.push(`run ${n}: the child did not start (${ready}): ${stderr.slice(0, 500)}`)
        proc.kill('SIGKILL')
        break
      }
      // Kill at a random moment in the first ~60 ms of steady work (or right away).
      const delay = random() < 0.2 ? 0 : Math.floor(random() * 60)
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
      if (stderr.includes('Error')) problems.push(`run ${n}: the child reported ${stderr.slice(0, 500)}`)
      options.onKill?.(n + 1)
      previous = start
    }
    const report = await check(ledgerPath, execLog, options.kills, problems)
    if (report.problems.length > 0) report.problems.push(`files kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
    return { ...report, seed }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

function waitForReady(proc: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let out = ''
    const timer = setTimeout(() => resolve('timeout'), timeoutMs)
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve('ready')
      }
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(`exited ${code ?? signal}`)
    })
  })
}

async function check(
  ledgerPath: string,
  execLog: string,
  kills: number,
  problems: string[],
): Promise<Omit<SoakReport, 'seed'>> {
  const ledger = await openLedger({ path: ledgerPath })
  const report = await ledger.verify()
  await ledger.close()
  if (!report.ok) problems.push(`verify: ${report.error?.message}`)
  const executions = existsSync(execLog) ? readFileSync(execLog, 'utf8').split('\n').filter(Boolean) : []
  const perKey = new Map<string, number>()
  for (const line of executions) perKey.set(line, (perKey.get(line) ?? 0) + 1)
  for (const [key, count] of perKey) if (count > 1) problems.push(`${key} executed ${count} times`)
  const db = new Database(ledgerPath, { readonly: true })
  try {
    const completedTwice = db
      .prepare(
        "SELECT json_extract(i.body, '$.idempotencyKey') AS key, count(*) AS n FROM entries c JOIN entries i ON i.id = json_extract(c.body, '$.invoked') WHERE c.type = 'FUNCTION_COMPLETED' AND json_extract(i.body, '$.idempotencyKey') IS NOT NULL GROUP BY key HAVING n > 1",
      )
      .all() as { key: string; n: number }[]
    for (const row of completedTwice) problems.push(`key ${row.key} completed ${row.n} times`)
    const open = (db.prepare('SELECT count(*) AS n FROM open_attempts').get() as { n: number }).n
    if (open !== 0) problems.push(`${open} attempts left open after recovery`)
    const charges = db.prepare("SELECT amount FROM charges WHERE lease = 'crash-lease'").raw().all() as [
      string,
    ][]
    const total = charges.reduce((sum, [a]) => sum + BigInt(a), 0n)
    const spent = db.prepare("SELECT spent FROM balances WHERE lease = 'crash-lease'").get() as
      | { spent: string }
      | undefined
    if (spent !== undefined && BigInt(spent.spent) !== total)
      problems.push(`lease spent ${spent.spent} but its charges sum to ${total}`)
    const keyed = db.prepare("SELECT count(*) AS n FROM idempotency WHERE state = 'completed'").get() as {
      n: number
    }
    const completedKeys = keyed.n
    const recovered = (
      db
        .prepare(
          "SELECT count(*) AS n FROM entries WHERE type = 'FUNCTION_FAILED' AND json_extract(body, '$.recovered') = 1",
        )
        .get() as {
        n: number
      }
    ).n
    for (const key of perKey.keys()) {
      const fn = key.split(' ')[0]
      if (fn !== 'pay' && fn !== 'send') problems.push(`unexpected execution line ${key}`)
    }
    return {
      kills,
      entries: report.entries,
      completed: report.completed,
      charges: report.charges,
      executions: executions.length,
      completedKeys,
      recovered,
      problems,
    }
  } finally {
    db.close()
  }
}
