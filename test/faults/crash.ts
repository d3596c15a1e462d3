// Fault: the process killed (SIGKILL) mid-call hundreds of times: the crash soak of
// test/_helpers/crashSoak.ts, its findings put in the four counts.
import { runCrashSoak } from '../_helpers/crashSoak.js'
import type { FaultReport } from './_audit.js'

export async function crashFault(
  options: { kills?: number; seed?: number; onKill?: (n: number) => void } = {},
): Promise<FaultReport> {
  const kills = options.kills ?? 200
  const envSeed = process.env.FMESH_SOAK_SEED
  const seed = options.seed ?? (envSeed === undefined ? undefined : Number(envSeed))
  let killed = 0
  const report = await runCrashSoak({
    kills,
    // A child's start (tsx compiling the mesh) takes seconds on a loaded machine.
    startTimeoutMs: 120_000,
    ...(seed === undefined ? {} : { seed }),
    onKill: (n) => {
      killed = n
      options.onKill?.(n)
    },
  })
  let doubleCharges = 0
  let lost = 0
  for (const p of report.problems) {
    if (/executed \d+ times|completed \d+ times|spent .* but its charges/.test(p)) doubleCharges++
    else if (/^verify|left open/.test(p)) lost++
    // Anything else (a child that did not start, or reported an error) is a problem, not a count.
  }
  return {
    fault: 'process killed mid-call',
    checked: `${killed} of ${report.kills} SIGKILLs (seed ${report.seed}, FMESH_SOAK_SEED reruns it); ${report.completed} calls completed, ${report.recovered} interrupted attempts closed by recovery; ledger verified`,
    calls: report.executions,
    lost,
    doubleCharges,
    brokeDeadline: 0,
    staleServed: 0,
    problems: report.problems,
  }
}
