// `npm run mutate [-- MODULE|FILE...] [--since REF] [--concurrency N] [--list]`: mutation testing of
// the trust-critical modules with StrykerJS (stryker.config.mjs), then a score per module and the
// surviving mutants of the trust path. MODULE is one of trust, record, ledger, security, select
// (default: all five); FILE is one file of them (`src/ledger/charges.ts`), to mutate a large module
// in parts; `--since REF` mutates only the files changed since a git ref (a quick check before a
// commit); `--concurrency N` overrides the config's test-runner count; `--incremental` reuses the
// results of the last incremental run of the same modules for mutants whose code and covering tests
// did not change (Stryker's incremental mode); `--list` prints the files it would mutate and stops.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { basename, join, relative } from 'node:path'

const MODULES = ['trust', 'record', 'ledger', 'security', 'select'] as const
const root = join(import.meta.dirname, '..', '..')
const report = join(root, 'reports', 'mutation', 'mutation.json')

/** Type-only files and entry barrels hold nothing a mutant could change at run time. */
const SKIP = new Set(['index.ts', 'types.ts'])

interface Args {
  /** Modules mutated whole. */
  modules: string[]
  /** Single files, each of a module not named whole. */
  files: string[]
  since: string | undefined
  concurrency: string | undefined
  incremental: boolean
  list: boolean
}

/** The module a file argument belongs to: `src/<module>/...ts`. */
function moduleOfFile(arg: string): string | undefined {
  const match = /^src\/([^/]+)\/.+\.ts$/.exec(arg.replaceAll('\\', '/'))
  return match !== null && (MODULES as readonly string[]).includes(match[1]!) ? match[1] : undefined
}

function parseArgs(argv: readonly string[]): Args {
  const modules: string[] = []
  const files: string[] = []
  let since: string | undefined
  let concurrency: string | undefined
  let list = false
  let incremental = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--since') {
      since = argv[++i]
      if (since === undefined) fail('--since needs a git ref (a branch, a tag or a commit)')
    } else if (arg === '--concurrency') {
      concurrency = argv[++i]
      if (concurrency === undefined || !/^[1-9]\d*$/.test(concurrency))
        fail('--concurrency needs a positive whole number of test runners')
    } else if (arg === '--list') list = true
    else if (arg === '--incremental') incremental = true
    else if ((MODULES as readonly string[]).includes(arg)) modules.push(arg)
    else if (moduleOfFile(arg) !== undefined) {
      if (!existsSync(join(root, arg))) fail(`no file ${arg}`)
      files.push(arg.replaceAll('\\', '/'))
    } else
      fail(
        `unknown argument ${arg}; modules are ${MODULES.join(', ')}, files src/<module>/*.ts, flags --since REF, --concurrency N, --incremental and --list`,
      )
  }
  const whole = modules.length > 0 || files.length > 0 ? modules : [...MODULES]
  return { modules: whole, files, since, concurrency, incremental, list }
}

function fail(message: string): never {
  process.stderr.write(`mutate: ${message}\n`)
  process.exit(2)
}

async function filesOf(module: string): Promise<string[]> {
  const dir = join(root, 'src', module)
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !SKIP.has(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort()
}

function changedSince(ref: string): Set<string> {
  const out = spawnSync('git', ['diff', '--name-only', ref, '--', 'src'], { cwd: root, encoding: 'utf8' })
  if (out.status !== 0) fail(`git diff ${ref} failed: ${out.stderr.trim()}`)
  return new Set(out.stdout.split('\n').filter(Boolean))
}

interface Mutant {
  status: string
  mutatorName: string
  replacement?: string
  location: { start: { line: number; column: number } }
}

/** Stryker's score: detected (killed, timed out) over valid mutants (compile errors and ignored left out). */
function summarize(files: Record<string, { mutants: Mutant[] }>, modules: readonly string[]) {
  const rows = modules.map((module) => {
    const counts = {
      Killed: 0,
      Timeout: 0,
      Survived: 0,
      NoCoverage: 0,
      Ignored: 0,
      CompileError: 0,
      RuntimeError: 0,
    }
    for (const [path, file] of Object.entries(files)) {
      if (!path.replaceAll('\\', '/').startsWith(`src/${module}/`)) continue
      for (const m of file.mutants)
        counts[m.status as keyof typeof counts] = (counts[m.status as keyof typeof counts] ?? 0) + 1
    }
    const detected = counts.Killed + counts.Timeout
    const valid = detected + counts.Survived + counts.NoCoverage
    return { module, ...counts, score: valid === 0 ? undefined : (100 * detected) / valid }
  })
  return rows
}

/** The modules named whole, then the base names of the single files. */
function incrementalKey(): string {
  return [...args.modules, ...args.files.map((f) => basename(f, '.ts'))].join('+')
}

const args = parseArgs(process.argv.slice(2))
let files = [...new Set([...args.files, ...(await Promise.all(args.modules.map(filesOf))).flat()])].sort()
// The modules scored: those named whole and those of the single files.
const scored = MODULES.filter(
  (m) => args.modules.includes(m) || args.files.some((f) => moduleOfFile(f) === m),
)
if (args.since !== undefined) {
  const changed = changedSince(args.since)
  files = files.filter((f) => changed.has(f))
}
if (args.list || files.length === 0) {
  process.stdout.write(files.length === 0 ? 'mutate: no file to mutate\n' : `${files.join('\n')}\n`)
  process.exit(0)
}
process.stdout.write(`mutate: ${files.length} files in ${scored.join(', ')}\n`)
// A report left by an earlier run must never be read as this one's.
rmSync(report, { force: true })
const strykerArgs = ['stryker', 'run', '--mutate', files.join(',')]
if (args.concurrency !== undefined) strykerArgs.push('--concurrency', args.concurrency)
// One results file per file set, so a run of another module never discards this one's.
if (args.incremental)
  strykerArgs.push('--incremental', '--incrementalFile', `reports/incremental/${incrementalKey()}.json`)
const started = performance.now()
const run = spawnSync('npx', strykerArgs, { cwd: root, stdio: 'inherit' })
const minutes = (performance.now() - started) / 60_000
if (run.status !== 0 || !existsSync(report))
  fail(`stryker failed (exit ${run.status}) and wrote no report; see its output above`)
const parsed = JSON.parse(readFileSync(report, 'utf8')) as { files: Record<string, { mutants: Mutant[] }> }
const rows = summarize(parsed.files, scored)
process.stdout.write(
  '\n| module | score | killed | timeout | survived | no coverage | ignored |\n|---|---|---|---|---|---|---|\n',
)
for (const r of rows)
  process.stdout.write(
    `| ${r.module} | ${r.score === undefined ? '-' : `${r.score.toFixed(1)}%`} | ${r.Killed} | ${r.Timeout} | ${r.Survived} | ${r.NoCoverage} | ${r.Ignored} |\n`,
  )
const survivors = Object.entries(parsed.files)
  .filter(([path]) => path.replaceAll('\\', '/').startsWith('src/trust/'))
  .flatMap(([path, file]) =>
    file.mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map(
        (m) =>
          `${path}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement ?? '')} (${m.status})`,
      ),
  )
if (survivors.length > 0)
  process.stdout.write(`\nSurviving mutants in the trust path:\n${survivors.join('\n')}\n`)
process.stdout.write(
  `\nRun time: ${minutes.toFixed(1)} min\nFull report: ${relative(root, report.replace(/\.json$/, '.html'))}\n`,
)
process.exit(run.status ?? 1)
