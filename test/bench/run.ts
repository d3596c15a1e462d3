import '../../src/_polyfill.js'
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BenchRun, type ChartPoint, type Row, toJson, toMarkdown, toSvgCharts } from './_results.js'

// `npm run bench [-- [--quick] [--out DIR] [--timeout S] [name ...]]`
// Runs every test/bench/*.bench.ts (or those whose file name contains one of the names), each in its
// own Node process one after another, and writes DIR/bench-results.json (every row and the machine),
// DIR/bench-results.md (the rows with a ratio, a target or an error) and one SVG per scaling chart.
// A bench that throws, crashes or overruns its time becomes an error row; the run goes on.
const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const value = args[i + 1]
  args.splice(i, 2)
  return value
}
const isQuick = args.includes('--quick')
if (isQuick) args.splice(args.indexOf('--quick'), 1)
const out = resolve(flag('--out') ?? 'bench-results')
const timeoutSec = Number(flag('--timeout') ?? (isQuick ? 90 : 600))
const only = args.filter((a) => !a.startsWith('--'))

/**
 * Files `--quick` leaves out unless named: their own fixed durations (autocannon rounds of 3 s, a
 * 10-node gossip mesh and a 10,000-record catch-up) take most of a quick run's two minutes.
 */
const QUICK_SKIP = ['gateway.bench.ts', 'peer.bench.ts']

/** Bench files that need a bigger heap than Node's default (the 1,000,000-record scale runs). */
const BIG_HEAP = /^scale/

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha}+dirty` : sha
  } catch {
    return 'unknown'
  }
}

let current: ChildProcess | undefined
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killGroup(current?.pid)
    process.exit(130)
  })

function runFile(file: string, rows: Row[], charts: ChartPoint[]): Promise<boolean> {
  const group = basename(file, '.bench.ts')
  return new Promise((done) => {
    const child = fork(join(here, '_child.ts'), [join(here, file)], {
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        ...(BIG_HEAP.test(file) ? ['--max-old-space-size=8192', '--max-semi-space-size=64'] : []),
      ],
      env: {
        ...(isQuick ? { FMESH_GROWTH_CALLS: '100000' } : {}),
        ...process.env,
        FMESH_BENCH_QUICK: isQuick ? '1' : '0',
        FMESH_BENCH_GROUP: group,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group, so a timeout also ends what the bench started (servers, anvil, peers).
      detached: true,
    })
    current = child
    let finished = false
    let ok = false
    const timer = setTimeout(() => {
      rows.push({
        group,
        name: `${file} timed out`,
        value: Number.NaN,
        unit: '',
        error: `no end after ${timeoutSec} s`,
      })
      killGroup(child.pid)
    }, timeoutSec * 1000)
    child.on(
      'message',
      (m: { kind: string; row?: Row; point?: ChartPoint; ok?: boolean; exitCode?: number }) => {
        if (m.kind === 'row') rows.push(m.row!)
        else if (m.kind === 'chart') charts.push(m.point!)
        else if (m.kind === 'done') {
          finished = true
          ok = m.ok === true
          if (ok && m.exitCode !== 0) {
            ok = false
            rows.push({
              group,
              name: `${file} set a failing exit code`,
              value: m.exitCode ?? 1,
              unit: 'exit code',
              error: 'the bench reported a failed check (see its output)',
            })
          }
        }
      },
    )
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      killGroup(child.pid) // anything the bench left running
      if (!finished && signal !== 'SIGKILL')
        rows.push({
          group,
          name: `${file} exited`,
          value: code ?? Number.NaN,
          unit: 'exit code',
          error: `exited before the end (code ${code}, signal ${signal})`,
        })
      done(finished && ok)
    })
  })
}

const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
const started = performance.now()
const loadStart = loadavg()
const date = new Date().toISOString()
const rows: Row[] = []
const charts: ChartPoint[] = []
const timings: BenchRun['files'] = []
for (const file of files) {
  console.log(`\n# ${file}`)
  if (isQuick && only.length === 0 && QUICK_SKIP.includes(file)) {
    console.log(`  (skipped in --quick: \`npm run bench -- --quick ${basename(file, '.bench.ts')}\` runs it)`)
    rows.push({
      group: basename(file, '.bench.ts'),
      name: `${file} skipped in --quick`,
      value: 0,
      unit: 's',
      note: 'fixed durations of its own; run it by name',
    })
    timings.push({ file, seconds: 0, ok: true })
    continue
  }
  const t0 = performance.now()
  const ok = await runFile(file, rows, charts)
  const seconds = (performance.now() - t0) / 1000
  timings.push({ file, seconds, ok })
  console.log(`  (${file}: ${seconds.toFixed(1)} s${ok ? '' : ', FAILED'})`)
}
const run: BenchRun = {
  machine: {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    totalMemMiB: Math.round(totalmem() / 2 ** 20),
    loadAverageStart: loadStart,
    loadAverageEnd: loadavg(),
    commit: gitCommit(),
    date,
  },
  quick: isQuick,
  filter: only,
  durationSec: (performance.now() - started) / 1000,
  files: timings,
  rows,
  charts,
}
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'bench-results.json'), toJson(run))
writeFileSync(join(out, 'bench-results.md'), toMarkdown(run))
for (const [id, svg] of toSvgCharts(charts)) writeFileSync(join(out, `${id}.svg`), svg)
const failed = timings.filter((t) => !t.ok).map((t) => t.file)
console.log(
  `\n${files.length} bench files in ${run.durationSec.toFixed(0)} s${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}; results in ${out}`,
)
