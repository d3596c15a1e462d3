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
  const report = await runCrashSoak({
    kills,
    ...(seed === undefined ? {} : { seed }),
    ...(options.onKill === undefined ? {} : { onKill: options.onKill }),
  })
  let doubleCharges = 0
  let lost = 0
  for (const p of report.problems) {
    if (/executed \d+ times|completed \d+ times|spent .* but its charges/.test(p)) doubleCharges++
    else if (!p.startsWith('files kept')) lost++
  }
  return {
    fault: 'process killed mid-call',
    checked: `${report.kills} SIGKILLs (seed ${report.seed}, FMESH_SOAK_SEED reruns it); ${report.completed} calls completed, ${report.recovered} interrupted attempts closed by recovery; ledger verified`,
    calls: report.executions,
    lost,
    doubleCharges,
    brokeDeadline: 0,
    staleServed: 0,
    problems: report.problems,
  }
}
