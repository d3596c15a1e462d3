// `npm run faults [-- --quick] [-- --only <substring>]`: every fault against real components on
// 127.0.0.1, each reporting what it checked and four counts that must all be 0: data lost, double
// charges, calls that broke their deadline, stale answers served past their window. Prints a table
// (and `--json` the reports) and exits 1 if any count is non-zero or any check found a problem.
// FMESH_SOAK_SEED reruns the crash soak's kill points.
import '../../src/_polyfill.js'
import { clean, type FaultReport } from './_audit.js'
import { crashFault } from './crash.js'
import { diskFullFault } from './diskFull.js'
import { GATHERED, gatheredFault } from './gathered.js'
import { peerPartitionFault } from './peers.js'
import { providerFaults } from './providers.js'
import { cacheFlappingFault, gitFlappingFault } from './registries.js'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const json = argv.includes('--json')
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined

const faults: { name: string; run: () => Promise<FaultReport> }[] = [
  { name: 'registry', run: () => gitFlappingFault({ rounds: quick ? 3 : 8 }) },
  { name: 'cache', run: () => cacheFlappingFault({ steps: quick ? 100 : 1000 }) },
  { name: 'providers', run: () => providerFaults({ rounds: quick ? 1 : 5 }) },
  { name: 'peers', run: () => peerPartitionFault({ rounds: quick ? 1 : 3, names: quick ? 3 : 10 }) },
  { name: 'disk', run: () => diskFullFault() },
  {
    name: 'crash',
    run: () =>
      crashFault({
        kills: quick ? 20 : 200,
        onKill: (n) => {
          if (n % 50 === 0) process.stderr.write(`  crash soak: ${n} kills\n`)
        },
      }),
  },
  ...GATHERED.map((g) => ({ name: `gathered ${g.fault}`, run: () => gatheredFault(g) })),
]

// Node exits a run whose only pending work is unref'd timers (AbortSignal.timeout): keep it alive.
const keepAlive = setInterval(() => {}, 60_000)
// An error nothing handled, anywhere in the run, is a problem of the fault that was running.
const unhandled: string[] = []
process.on('unhandledRejection', (reason) =>
  unhandled.push(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`),
)
process.on('uncaughtException', (err) => unhandled.push(`uncaught exception: ${err.stack ?? String(err)}`))
const reports: FaultReport[] = []
const started = performance.now()
for (const fault of faults) {
  if (only !== undefined && !fault.name.includes(only)) continue
  const t = performance.now()
  process.stderr.write(`fault: ${fault.name} ...\n`)
  let report: FaultReport
  try {
    report = await fault.run()
  } catch (err) {
    report = {
      fault: fault.name,
      checked: 'the run itself failed',
      calls: 0,
      lost: 0,
      doubleCharges: 0,
      brokeDeadline: 0,
      staleServed: 0,
      problems: [`unhandled: ${(err as Error)?.stack ?? String(err)}`],
    }
  }
  if (unhandled.length > 0) report = { ...report, problems: [...report.problems, ...unhandled.splice(0)] }
  reports.push(report)
  process.stderr.write(
    `  ${clean(report) ? 'ok' : 'FAILED'} in ${((performance.now() - t) / 1000).toFixed(1)} s: ${report.checked}\n`,
  )
}
clearInterval(keepAlive)

const rows = reports.map((r) => [
  r.fault,
  String(r.calls),
  String(r.lost),
  String(r.doubleCharges),
  String(r.brokeDeadline),
  String(r.staleServed),
  String(r.problems.length),
])
const head = ['fault', 'calls', 'lost', 'double charges', 'broke deadline', 'stale served', 'problems']
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
console.log(line(head))
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`)
for (const r of rows) console.log(line(r))
const total = (k: 'lost' | 'doubleCharges' | 'brokeDeadline' | 'staleServed') =>
  reports.reduce((s, r) => s + r[k], 0)
console.log(
  `\ntotals: lost ${total('lost')}, double charges ${total('doubleCharges')}, broke deadline ${total('brokeDeadline')}, stale served ${total('staleServed')}, problems ${reports.reduce((s, r) => s + r.problems.length, 0)} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
)
for (const r of reports) for (const p of r.problems.slice(0, 10)) console.log(`  ${r.fault}: ${p}`)
if (json) console.log(JSON.stringify(reports, null, 2))
process.exit(reports.every(clean) && reports.length > 0 ? 0 : 1)
