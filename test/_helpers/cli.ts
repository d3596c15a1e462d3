import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('../..', import.meta.url).pathname
const tsx = join(root, 'node_modules/tsx/dist/esm/index.mjs')
const entry = join(root, 'src/cli/main.ts')
const preload = join(root, 'test/_helpers/hangReport.ts')
let runs = 0

/**
 * The time a test that spawns several commands gets: more than two commands' `killAfterMs`, so on a
 * loaded machine a slow command fails as itself (killed, with what kept it alive) and a run of slow
 * commands still finishes, instead of the test's 30 s default cutting it off mid-command.
 */
export const CLI_TEST_TIMEOUT_MS = 120_000

export interface CliRun {
  stdout: string
  stderr: string
  /** The exit code; 0 on success. */
  code: number
}

/** `process.env` without the variables that point fmesh at a config or data dir, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra }
  if (!('FMESH_DATA_DIR' in extra)) delete env.FMESH_DATA_DIR
  if (!('FMESH_CONFIG' in extra)) delete env.FMESH_CONFIG
  return env
}

/**
 * Runs `fmesh ARGS` from source (tsx) and settles with its output and exit code; a non-zero exit is
 * a result, not a rejection. A command still running after `killAfterMs` is killed, and the call
 * rejects naming the command, how long it ran, its stderr and the handles that kept it alive (from
 * the `hangReport.ts` preload), so a hang fails as itself instead of as the test's timeout.
 */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number; maxBuffer?: number } = {},
): Promise<CliRun> {
  const killAfterMs = options.killAfterMs ?? 25_000
  const report = join(tmpdir(), `fmesh-hang-${process.pid}-${++runs}.log`)
  const started = Date.now()
  try {
    return await new Promise<CliRun>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', tsx, '--import', preload, entry, ...args],
        {
          cwd: options.cwd ?? root,
          env: { ...(options.env ?? process.env), FMESH_HANG_REPORT: report },
          timeout: killAfterMs,
          killSignal: 'SIGKILL',
          maxBuffer: options.maxBuffer ?? 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err === null) return resolve({ stdout, stderr, code: 0 })
          const failed = err as Error & { code?: number | string; killed?: boolean }
          if (typeof failed.code === 'number' && failed.killed !== true)
            return resolve({ stdout, stderr, code: failed.code })
          if (failed.killed !== true) return reject(err)
          readFile(report, 'utf8').then(
            (hang) => reject(killed(args, Date.now() - started, stderr, hang)),
            () =>
              reject(
                killed(args, Date.now() - started, stderr, '(none: its event loop never ran the report)'),
              ),
          )
        },
      )
    })
  } finally {
    await rm(report, { force: true })
  }
}

function killed(args: readonly string[], ms: number, stderr: string, hang: string): Error {
  return new Error(
    `fmesh ${args.join(' ')} was still running after ${ms} ms and was killed.\nWhat kept it alive:\n${hang}\nIts stderr:\n${stderr}`,
  )
}

/**
 * Starts `fmesh node start --json ARGS` in `cwd` in the background; `started` resolves with the
 * document it prints once the node is up (api.json written), and rejects with its stderr if it exits
 * first. The caller stops `child`.
 */
export function startCliNode<T = unknown>(
  cwd: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; started: Promise<T> } {
  const child = spawn(
    process.execPath,
    ['--import', tsx, entry, 'node', 'start', '--json', ...(options.args ?? [])],
    { cwd, env: options.env ?? cleanEnv() },
  )
  let text = ''
  let err = ''
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const started = new Promise<T>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString()
      try {
        resolve(JSON.parse(text) as T)
      } catch {}
    })
    child.on('close', (code) => reject(new Error(`node start exited ${code}: ${err}`)))
  })
  return { child, started }
}
