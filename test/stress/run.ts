// `npm run stress [-- --runs N] [--loops N] [--keep-going] [-- VITEST ARGS]`: the whole suite N times
// in a row (default 10) with N busy loops beside it (default 2, one per core on the 2-core machine
// CI uses), the way a loaded shared machine runs it. Each run's result and time are printed as it
// ends; the first failing run stops the loop (unless --keep-going) and its vitest output stays in
// the printed log file. The busy loops are plain `node -e 'for(;;){}'` processes, killed on every
// exit path. Closes with the line CI reads: `stress: N passed, N failed`.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

interface Args {
  runs: number
  loops: number
  keepGoing: boolean
  vitest: string[]
}

function fail(message: string): never {
  process.stderr.write(`npm run stress: ${message}\n`)
  process.exit(2)
}

function wholeNumber(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min)
    fail(`${flag} needs a whole number >= ${min}, got ${value ?? 'nothing'}`)
  return Number(value)
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 10, loops: 2, keepGoing: false, vitest: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--runs') args.runs = wholeNumber(arg, argv[++i], 1)
    else if (arg === '--loops') args.loops = wholeNumber(arg, argv[++i], 0)
    else if (arg === '--keep-going') args.keepGoing = true
    else if (arg === '--') {
      args.vitest.push(...argv.slice(i + 1))
      break
    } else
      fail(`unknown argument ${arg} (use --runs N, --loops N, --keep-going, then -- and vitest arguments)`)
  }
  return args
}

interface RunResult {
  passed: number
  failed: number
  skipped: number
  seconds: number
  exitCode: number | null
}

function runSuite(vitestArgs: readonly string[], log: string, report: string): Promise<RunResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(
      'npx',
      [
        'vitest',
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
        ...vitestArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.on('close', (exitCode) => {
      writeFileSync(log, Buffer.concat(chunks))
      const seconds = (performance.now() - started) / 1000
      let counts = { passed: 0, failed: 1, skipped: 0 }
      try {
        const r = JSON.parse(readFileSync(report, 'utf8')) as {
          numPassedTests: number
          numFailedTests: number
          numPendingTests?: number
          numTodoTests?: number
          testResults?: { status: string; assertionResults?: unknown[] }[]
        }
        const failedFiles = (r.testResults ?? []).filter(
          (t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0,
        ).length
        counts = {
          passed: r.numPassedTests,
          failed: r.numFailedTests + failedFiles,
          skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
        }
      } catch {
        // No report: vitest itself failed to start or crashed; counted as one failure, log kept.
      }
      resolve({ ...counts, seconds, exitCode })
    })
  })
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-stress-'))
  const loops: ChildProcess[] = []
  const stopLoops = () => {
    for (const loop of loops) loop.kill('SIGKILL')
  }
  process.on('exit', stopLoops)
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      stopLoops()
      process.exit(130)
    })
  for (let i = 0; i < args.loops; i++)
    loops.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }))
  process.stdout.write(
    `stress: ${args.runs} runs of the suite beside ${args.loops} busy loops; logs in ${dir}\n`,
  )

  let passedRuns = 0
  let failedRuns = 0
  for (let run = 1; run <= args.runs; run++) {
    const log = join(dir, `run-${run}.log`)
    const r = await runSuite(args.vitest, log, join(dir, `run-${run}.json`))
    const ok = r.failed === 0 && r.exitCode === 0
    if (ok) passedRuns++
    else failedRuns++
    const load = loadavg()[0]!.toFixed(1)
    process.stdout.write(
      `run ${run}/${args.runs}: ${ok ? 'passed' : 'FAILED'}: ${r.passed} passed, ${r.failed} failed, ` +
        `${r.skipped} skipped in ${r.seconds.toFixed(0)} s (load ${load})${ok ? '' : `; log ${log}`}\n`,
    )
    if (!ok && !args.keepGoing) break
  }
  stopLoops()
  process.stdout.write(`stress: ${passedRuns} passed, ${failedRuns} failed\n`)
  process.exitCode = failedRuns === 0 ? 0 : 1
}

await main()
