// Crash soak: `npx tsx test/_helpers/crash-soak.ts [kills=200] [seed]` (the seed is printed). Kills a child making governed calls
// with SIGKILL at random points, restarts it, and checks the ledger's invariants at the end.
import '../../src/_polyfill.js'
import { runCrashSoak } from './crashSoak.js'

const kills = Number(process.argv[2] ?? 200)
const seed = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const started = Date.now()
const report = await runCrashSoak({
  kills,
  ...(seed === undefined ? {} : { seed }),
  onKill: (n) => {
    if (n % 20 === 0) process.stdout.write(`  ${n} kills (${((Date.now() - started) / 1000).toFixed(0)} s)\n`)
  },
})
console.log(
  JSON.stringify(
    { ...report, problems: report.problems.slice(0, 20), seconds: (Date.now() - started) / 1000 },
    null,
    2,
  ),
)
process.exit(report.problems.length === 0 ? 0 : 1)
