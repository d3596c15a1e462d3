import { describe, expect, it } from 'vitest'
import { type Behaviour, roundRobin, type SimResult, simulate } from '../_helpers/loadSim.js'

const CHANGE_AT = 10_000
const healthy = (): Behaviour => ({ medianMs: 20 })
const slowB = (id: string, t: number): Behaviour =>
  id === 'b' && t >= CHANGE_AT ? { medianMs: 200 } : healthy()
const failingB = (id: string, t: number): Behaviour =>
  id === 'b' && t >= CHANGE_AT ? { medianMs: 20, fails: true, failMs: 1 } : healthy()

const share = (r: SimResult, id: string) => r.perProvider[id]! / r.calls
const fmt = (r: SimResult) =>
  `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, b got ${(100 * (r.perProvider.b! / r.calls)).toFixed(2)}% of ${r.calls}, failures ${r.failures}`

describe('load-balance simulation (fake clock, seeded, 3 providers, 200 rps, 60 s measured)', () => {
  it('is deterministic under a seed (same seed, same latencies, same choices)', async () => {
    const one = await simulate({ strategy: 'load-balance', behaviour: slowB, seed: 11, durationMs: 20_000 })
    const two = await simulate({ strategy: 'load-balance', behaviour: slowB, seed: 11, durationMs: 20_000 })
    expect(two).toEqual(one)
  })

  it('keeps p99 within 1.5x of the all-healthy run when one provider turns 10x slower; round-robin does not', async () => {
    const seed = 7
    const base = await simulate({ strategy: 'load-balance', behaviour: healthy, seed })
    const lb = await simulate({ strategy: 'load-balance', behaviour: slowB, seed })
    const rrBase = await simulate({ strategy: roundRobin(), behaviour: healthy, seed })
    const rr = await simulate({ strategy: roundRobin(), behaviour: slowB, seed })
    console.log(
      [
        'slow provider (b 10x slower from t=10 s):',
        `  load-balance healthy   ${fmt(base)}`,
        `  load-balance degraded  ${fmt(lb)}  -> p99 ratio ${(lb.p99 / base.p99).toFixed(3)}`,
        `  round-robin  healthy   ${fmt(rrBase)}`,
        `  round-robin  degraded  ${fmt(rr)}  -> p99 ratio ${(rr.p99 / rrBase.p99).toFixed(3)}`,
      ].join('\n'),
    )
    expect(lb.p99 / base.p99).toBeLessThanOrEqual(1.5)
    expect(share(lb, 'b')).toBeLessThan(0.05)
    expect(rr.p99 / rrBase.p99).toBeGreaterThan(5)
  })

  it('sends a provider that fails fast under 5% of calls; round-robin without ejection sends it a third', async () => {
    const seed = 5
    const base = await simulate({ strategy: 'load-balance', behaviour: healthy, seed })
    const lb = await simulate({ strategy: 'load-balance', behaviour: failingB, seed })
    // Round-robin ignores stats, so only the circuit breaker keeps it off b; without ejection it cannot.
    const rrEjecting = await simulate({ strategy: roundRobin(), behaviour: failingB, seed })
    const rrPlain = await simulate({
      strategy: roundRobin(),
      behaviour: failingB,
      seed,
      mesh: { health: { maxEjectionShare: 0 } },
    })
    const afterOpen = (r: SimResult) =>
      r.openedAt.b === undefined
        ? 'never opened'
        : `${((100 * (r.afterOpen.b ?? 0)) / r.callsAfterOpen.b!).toFixed(3)}% of calls after the circuit opened at ${r.openedAt.b} ms`
    console.log(
      [
        'failing provider (b fails in 1 ms from t=10 s):',
        `  load-balance                     ${fmt(lb)}  -> p99 ratio ${(lb.p99 / base.p99).toFixed(3)}; b: ${afterOpen(lb)}`,
        `  round-robin + ejection           ${fmt(rrEjecting)}; b: ${afterOpen(rrEjecting)}`,
        `  round-robin, ejection disabled   ${fmt(rrPlain)}`,
      ].join('\n'),
    )
    expect(share(lb, 'b')).toBeLessThan(0.05)
    expect(lb.p99 / base.p99).toBeLessThanOrEqual(1.5)
    // Ejection alone (the circuit breaker) keeps even a blind strategy off the failing provider.
    expect(rrEjecting.openedAt.b).toBeDefined()
    expect((rrEjecting.afterOpen.b ?? 0) / rrEjecting.callsAfterOpen.b!).toBeLessThan(0.05)
    expect(share(rrPlain, 'b')).toBeGreaterThan(0.3)
  })

  it('holds the p99 and share bounds across seeds, for both degradations', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const base = await simulate({ strategy: 'load-balance', behaviour: healthy, seed })
      for (const behaviour of [slowB, failingB]) {
        const r = await simulate({ strategy: 'load-balance', behaviour, seed })
        expect(r.p99 / base.p99, `seed ${seed}`).toBeLessThanOrEqual(1.5)
        expect(share(r, 'b'), `seed ${seed}`).toBeLessThan(0.05)
      }
    }
  })
})
