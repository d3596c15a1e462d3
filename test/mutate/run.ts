// `npm run mutate [-- MODULE...] [--since REF] [--list]`: mutation testing of the trust-critical
// modules with StrykerJS (stryker.config.mjs), then a score per module and the surviving mutants of
// the trust path. MODULE is one of trust, record, ledger, security, select (default: all five);
// `--since REF` mutates only the files of those modules changed since a git ref (a quick check
// before a commit); `--list` prints the files it would mutate and stops.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

const MODULES = ['trust', 'record', 'ledger', 'security', 'select'] as const
const root = join(import.meta.dirname, '..', '..')
const report = join(root, 'reports', 'mutation', 'mutation.json')

/** Type-only files and entry barrels hold nothing a mutant could change at run time. */
const SKIP = new Set(['index.ts', 'types.ts'])

interface Args {
  modules: string[]
  since: string | undefined
  list: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const modules: string[] = []
  let since: string | undefined
  let list = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--since') {
      since = argv[++i]
      if (since === undefined) fail('--since needs a git ref (a branch, a tag or a commit)')
    } else if (arg === '--list') list = true
    else if ((MODULES as readonly string[]).includes(arg)) modules.push(arg)
    else fail(`unknown argument ${arg}; modules are ${MODULES.join(', ')}, flags --since REF and --list`)
  }
  return { modules: modules.length > 0 ? modules : [...MODULES], since, list }
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

const args = parseArgs(process.argv.slice(2))
let files = (await Promise.all(args.modules.map(filesOf))).flat()
if (args.since !== undefined) {
  const changed = changedSince(args.since)
  files = files.filter((f) => changed.has(f))
}
if (args.list || files.length === 0) {
  process.stdout.write(files.length === 0 ? 'mutate: no file to mutate\n' : `${files.join('\n')}\n`)
  process.exit(0)
}
process.stdout.write(`mutate: ${files.length} files in ${args.modules.join(', ')}\n`)
// A report left by an earlier run must never be read as this one's.
rmSync(report, { force: true })
const run = spawnSync('npx', ['stryker', 'run', '--mutate', files.join(',')], { cwd: root, stdio: 'inherit' })
if (run.status !== 0 || !existsSync(report))
  fail(`stryker failed (exit ${run.status}) and wrote no report; see its output above`)
const parsed = JSON.parse(readFileSync(report, 'utf8')) as { files: Record<string, { mutants: Mutant[] }> }
const rows = summarize(parsed.files, args.modules)
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
process.stdout.write(`\nFull report: ${relative(root, report.replace(/\.json$/, '.html'))}\n`)
process.exit(run.status ?? 1)
