import { describe, expect, it } from 'vitest'
import { runCrashSoak } from '../_helpers/crashSoak.js'

// The long version: `npx tsx test/_helpers/crash-soak.ts 200`.
describe('crash safety', () => {
  it('survives 20 SIGKILLs at random points: verifies, one charge per COMPLETED, no key runs twice', async () => {
    // FMESH_SOAK_SEED reruns a failure with its kill points; the seed is in every failure message.
    const seed = process.env.FMESH_SOAK_SEED === undefined ? undefined : Number(process.env.FMESH_SOAK_SEED)
    const report = await runCrashSoak({ kills: 20, ...(seed === undefined ? {} : { seed }) })
    expect(report.problems, `soak seed ${report.seed}`).toEqual([])
    expect(report.kills).toBe(20)
    expect(report.completed).toBeGreaterThan(0)
    expect(report.charges).toBe(report.completed)
  }, 80_000)
})
