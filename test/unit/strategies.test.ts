import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { rateTable } from '../../src/select/RateTable.js'
import { DEFAULT_SECURITY_CONTEXT } from '../../src/select/Selector.js'
import { seededRandom } from '../../src/select/seededRandom.js'
import { fastest } from '../../src/select/strategies/fastest.js'
import { highestAvailability } from '../../src/select/strategies/highestAvailability.js'
import { loadBalance } from '../../src/select/strategies/loadBalance.js'
import { lowestCost } from '../../src/select/strategies/lowestCost.js'
import { resolveStrategy } from '../../src/select/strategies/resolveStrategy.js'
import { weighted } from '../../src/select/strategies/weighted.js'
import type { Candidate, Strategy, StrategyInput } from '../../src/select/types.js'
import { candidate, draft, meshWith, provider } from '../_helpers/selectFixtures.js'

function input(candidates: Candidate[], extra: Partial<StrategyInput> = {}): StrategyInput {
  return {
    name: 'acme.com/x/y',
    version: '1.0.0',
    descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', allowedByDefault: false },
    candidates,
    context: DEFAULT_SECURITY_CONTEXT,
    now: 1_000_000,
    random: seededRandom(1),
    rates: undefined,
    ...extra,
  }
}

const pick = (strategy: Strategy, candidates: Candidate[], extra: Partial<StrategyInput> = {}) =>
  strategy(input(candidates, extra)).candidate.provider.id

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError)
    return (err as MeshError).code
  }
  throw new Error('expected a MeshError')
}

describe('lowest-cost', () => {
  it('picks the cheapest by base units, compared as bigints', () => {
    const huge = candidate(provider('huge', '90071992547409930000'))
    const huger = candidate(provider('huger', '90071992547409930001'))
    expect(pick(lowestCost(), [huger, huge])).toBe('huge')
  })
  it('breaks a price tie by expected latency', () =>
    expect(pick(lowestCost(), [candidate(provider('a', '5', 90)), candidate(provider('b', '5', 30))])).toBe(
      'b',
    ))
  it('counts a provider that declares no cost as free', () =>
    expect(pick(lowestCost(), [candidate(provider('a', '5')), candidate(provider('free'))])).toBe('free'))
  it('error: refuses to compare currencies without rates', () => {
    const eur = candidate({ ...provider('eu'), cost: { unit: 'EURC', baseUnits: '90' } })
    expect(code(() => pick(lowestCost(), [candidate(provider('us', '100')), eur]))).toBe(
      'E_CURRENCY_MISMATCH',
    )
  })
  it('compares currencies exactly through a rate table', () => {
    const eur = candidate({ ...provider('eu'), cost: { unit: 'EURC', baseUnits: '95' } })
    const us = candidate(provider('us', '100'))
    const rates = rateTable({ reference: 'USDC', rates: { EURC: '1.08' } })
    expect(pick(lowestCost(), [us, eur], { rates })).toBe('us') // 95 x 1.08 = 102.6 > 100
    const cheaper = rateTable({ reference: 'USDC', rates: { EURC: '1.05' } })
    expect(pick(lowestCost(), [us, eur], { rates: cheaper })).toBe('eu') // 99.75 < 100
  })
  it('spreads exact ties with the random source', () => {
    const all = [
      candidate(provider('a', '5', 10)),
      candidate(provider('b', '5', 10)),
      candidate(provider('c', '5', 10)),
    ]
    const random = seededRandom(3)
    const counts: Record<string, number> = {}
    for (let i = 0; i < 3000; i++) {
      const id = pick(lowestCost(), all, { random })
      counts[id] = (counts[id] ?? 0) + 1
    }
    for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThan(850)
  })
  it('error: a rate table refuses non-decimal and zero rates', () => {
    expect(code(() => rateTable({ reference: 'USDC', rates: { EURC: '1e3' } }))).toBe(
      'E_SELECT_OPTIONS_INVALID',
    )
    expect(code(() => rateTable({ reference: 'USDC', rates: { EURC: '0.0' } }))).toBe(
      'E_SELECT_OPTIONS_INVALID',
    )
    expect(code(() => rateTable({ reference: 'US DC', rates: {} }))).toBe('E_SELECT_OPTIONS_INVALID')
  })
})

describe('fastest', () => {
  it('prefers observed latency over advertised', () => {
    const claimsFast = candidate(provider('claims', '1', 5), { latencyMs: 80 })
    const isFast = candidate(provider('is', '1', 100), { latencyMs: 20 })
    expect(pick(fastest(), [claimsFast, isFast])).toBe('is')
  })
  it('falls back to advertised avgResponseTimeMs for unobserved providers', () =>
    expect(
      pick(fastest(), [
        candidate(provider('a', '1', 40), { latencyMs: 50 }),
        candidate(provider('new', '1', 30)),
      ]),
    ).toBe('new'))
  it('ranks a provider with neither observation nor advertisement last', () =>
    expect(pick(fastest(), [candidate(provider('mystery')), candidate(provider('slow', '1', 5000))])).toBe(
      'slow',
    ))
})

describe('highest-availability', () => {
  it('picks the highest observed success ratio', () =>
    expect(
      pick(highestAvailability(), [
        candidate(provider('a', '1', 1, { slaTier: 'enterprise' }), { successRatio: 0.9 }),
        candidate(provider('b', '1', 1, { slaTier: 'free' }), { successRatio: 0.99 }),
      ]),
    ).toBe('b'))
  it('breaks a ratio tie by SLA tier', () =>
    expect(
      pick(highestAvailability(), [
        candidate(provider('std', '1', 1, { slaTier: 'standard' }), { successRatio: 1 }),
        candidate(provider('prem', '1', 1, { slaTier: 'premium' }), { successRatio: 1 }),
      ]),
    ).toBe('prem'))
  it('ranks unobserved providers below observed ones, then by tier among themselves', () => {
    const observed = candidate(provider('seen', '1', 1, { slaTier: 'free' }), { successRatio: 0.5 })
    const unseen = candidate(provider('unseen', '1', 1, { slaTier: 'enterprise' }))
    expect(pick(highestAvailability(), [unseen, observed])).toBe('seen')
    const unseenStd = candidate(provider('unseen-std', '1', 1, { slaTier: 'standard' }))
    expect(pick(highestAvailability(), [unseenStd, unseen])).toBe('unseen')
  })
  it('takes custom tiers, best first', () =>
    expect(
      pick(highestAvailability({ tiers: ['gold', 'silver'] }), [
        candidate(provider('s', '1', 1, { slaTier: 'silver' })),
        candidate(provider('g', '1', 1, { slaTier: 'gold' })),
      ]),
    ).toBe('g'))
})

describe('load-balance', () => {
  it('takes the lower peak-EWMA x (in-flight + 1) of the two drawn', () => {
    const a = candidate(provider('a'), { peakLatencyMs: 10, inFlight: 5 }) // 60
    const b = candidate(provider('b'), { peakLatencyMs: 40, inFlight: 0 }) // 40
    expect(pick(loadBalance(), [a, b])).toBe('b')
    const c = candidate(provider('c'), { peakLatencyMs: 10, inFlight: 1 }) // 20
    expect(pick(loadBalance(), [c, b])).toBe('c')
  })
  it('probes a new provider once, then leaves it alone until the probe returns', () => {
    const busy = candidate(provider('busy'), { peakLatencyMs: 10, inFlight: 3 })
    expect(pick(loadBalance(), [busy, candidate(provider('new'))])).toBe('new')
    expect(pick(loadBalance(), [busy, candidate(provider('new'), { inFlight: 1 })])).toBe('busy')
    expect(
      pick(loadBalance({ newProviderProbes: 2 }), [busy, candidate(provider('new'), { inFlight: 1 })]),
    ).toBe('new')
  })
  it('only ever compares two: the worst of three is never chosen', () => {
    const all = [
      candidate(provider('a'), { peakLatencyMs: 10 }),
      candidate(provider('b'), { peakLatencyMs: 20 }),
      candidate(provider('worst'), { peakLatencyMs: 1000 }),
    ]
    const random = seededRandom(9)
    const counts: Record<string, number> = {}
    for (let i = 0; i < 3000; i++) {
      const id = pick(loadBalance(), all, { random })
      counts[id] = (counts[id] ?? 0) + 1
    }
    expect(counts.worst).toBeUndefined()
    // a wins both pairs it is in (2/3 of draws), b wins only against worst (1/3).
    expect(counts.a! / 3000).toBeCloseTo(2 / 3, 1)
  })
  it('error: refuses newProviderProbes below 1', () =>
    expect(code(() => loadBalance({ newProviderProbes: 0 }))).toBe('E_SELECT_OPTIONS_INVALID'))
})

describe('weighted', () => {
  const cheapSlow = candidate(provider('cheap-slow', '100', 500))
  const dearFast = candidate(provider('dear-fast', '1000', 50))
  it('with all weight on cost, picks the cheapest', () =>
    expect(pick(weighted({ cost: 1, latency: 0 }), [dearFast, cheapSlow])).toBe('cheap-slow'))
  it('with all weight on latency, picks the fastest', () =>
    expect(pick(weighted({ cost: 0, latency: 1 }), [cheapSlow, dearFast])).toBe('dear-fast'))
  it('scores normalized terms: 0.5/0.5 prefers the balanced provider', () => {
    const balanced = candidate(provider('balanced', '300', 150)) // 0.5 x 0.3 + 0.5 x 0.3 = 0.3
    // cheap-slow: 0.5 x 0.1 + 0.5 x 1 = 0.55; dear-fast: 0.5 x 1 + 0.5 x 0.1 = 0.55
    const choice = weighted()(input([cheapSlow, dearFast, balanced]))
    expect(choice.candidate.provider.id).toBe('balanced')
    expect(typeof choice.reason === 'function' ? choice.reason() : choice.reason).toContain('balanced=0.3000')
  })
  it('error: refuses negative, infinite and all-zero weights', () => {
    expect(code(() => weighted({ cost: -1 }))).toBe('E_SELECT_OPTIONS_INVALID')
    expect(code(() => weighted({ latency: Number.POSITIVE_INFINITY }))).toBe('E_SELECT_OPTIONS_INVALID')
    expect(code(() => weighted({ cost: 0, latency: 0 }))).toBe('E_SELECT_OPTIONS_INVALID')
  })
})

describe('determinism and bad input', () => {
  const all = Array.from({ length: 10 }, (_, i) =>
    candidate(provider(`p${i}`, String(100 - (i % 3)), 10 + (i % 4)), {
      peakLatencyMs: 10 + (i % 5),
      inFlight: i % 3,
    }),
  )
  const run = (seed: number, strategy: Strategy) => {
    const random = seededRandom(seed)
    return Array.from({ length: 200 }, () => pick(strategy, all, { random })).join(',')
  }
  it('the same seed gives the same choices, for every strategy', () => {
    for (const s of [lowestCost(), fastest(), highestAvailability(), loadBalance(), weighted()]) {
      expect(run(42, s)).toBe(run(42, s))
    }
    expect(run(42, loadBalance())).not.toBe(run(43, loadBalance()))
  })
  it('error: weird stats are E_STATS_INVALID naming the field', () => {
    const nan = candidate(provider('nan'), { latencyMs: Number.NaN })
    expect(code(() => pick(fastest(), [nan, all[0]!]))).toBe('E_STATS_INVALID')
    const negative = candidate(provider('neg'), { peakLatencyMs: 5, inFlight: -1 })
    expect(code(() => pick(loadBalance(), [negative, all[0]!]))).toBe('E_STATS_INVALID')
    const fraction = candidate(provider('frac'), { peakLatencyMs: 5, inFlight: 0.5 })
    expect(code(() => pick(loadBalance(), [fraction, all[0]!]))).toBe('E_STATS_INVALID')
    const ratio = candidate(provider('ratio'), { successRatio: 1.5 })
    expect(code(() => pick(highestAvailability(), [ratio, all[0]!]))).toBe('E_STATS_INVALID')
    const inf = candidate(provider('inf'), { peakLatencyMs: Number.POSITIVE_INFINITY })
    expect(code(() => pick(loadBalance(), [inf, all[0]!]))).toBe('E_STATS_INVALID')
  })
  it('error: a random source outside [0, 1) is E_RANDOM_INVALID', () => {
    expect(code(() => pick(loadBalance(), all, { random: () => 1 }))).toBe('E_RANDOM_INVALID')
    expect(code(() => pick(loadBalance(), all, { random: () => Number.NaN }))).toBe('E_RANDOM_INVALID')
  })
  it('error: unknown strategy names and non-functions', () => {
    expect(code(() => resolveStrategy('cheapest' as never))).toBe('E_STRATEGY_UNKNOWN')
    expect(code(() => resolveStrategy('toString' as never))).toBe('E_STRATEGY_UNKNOWN')
    expect(code(() => resolveStrategy(42 as never))).toBe('E_STRATEGY_INVALID')
  })
})

describe('strategies through mesh.select', () => {
  it('takes the strategy from createMesh and per call', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')], { strategy: 'fastest' })
    expect((await mesh.select('acme.com/x/y')).provider.id).toBe('p3')
    const cheap = await mesh.select('acme.com/x/y', undefined, { strategy: 'lowest-cost' })
    expect([cheap.provider.id, cheap.strategy]).toEqual(['p1', 'lowest-cost'])
    expect(cheap.reason).toBe('lowest-cost: p1 at 100 USDC per call, cheapest of 3')
    await mesh.close()
  })
  it('runs custom strategies and names them', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')])
    const lastOne: Strategy = (i) => ({
      candidate: i.candidates[i.candidates.length - 1]!,
      reason: 'the last one',
    })
    const result = await mesh.select('acme.com/x/y', undefined, { strategy: lastOne })
    expect([result.provider.id, result.strategy, result.reason]).toEqual(['p3', 'lastOne', 'the last one'])
    await mesh.close()
  })
  it('error: a custom strategy that returns a stranger or throws is E_STRATEGY_INVALID', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')])
    const stranger: Strategy = () => ({ candidate: candidate(provider('evil')), reason: 'x' })
    await expect(mesh.select('acme.com/x/y', undefined, { strategy: stranger })).rejects.toMatchObject({
      code: 'E_STRATEGY_INVALID',
    })
    const thrower: Strategy = () => {
      throw new TypeError('oops')
    }
    await expect(mesh.select('acme.com/x/y', undefined, { strategy: thrower })).rejects.toMatchObject({
      code: 'E_STRATEGY_INVALID',
      shortMessage: 'Selection strategy thrower is invalid: threw oops',
    })
    await mesh.close()
  })
  it('error: createMesh refuses an unknown strategy name', async () => {
    await expect(meshWith([], { strategy: 'round-robin' as never })).rejects.toMatchObject({
      code: 'E_STRATEGY_UNKNOWN',
    })
  })
  it('maxCost removes providers above the budget, and refuses when none fits', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')], { strategy: 'fastest' })
    const result = await mesh.select('acme.com/x/y', undefined, {
      maxCost: { unit: 'USDC', baseUnits: '200' },
    })
    expect(result.provider.id).toBe('p2')
    expect(result.removed.map((r) => `${r.provider.id}:${r.violations[0]!.rule}`)).toEqual([
      'p3:budget.maxCost',
    ])
    await expect(
      mesh.select('acme.com/x/y', undefined, { maxCost: { unit: 'USDC', baseUnits: '50' } }),
    ).rejects.toMatchObject({ code: 'E_OVER_BUDGET' })
    await expect(
      mesh.select('acme.com/x/y', undefined, { maxCost: { unit: 'USDC', baseUnits: '-1' } }),
    ).rejects.toMatchObject({ code: 'E_SELECT_OPTIONS_INVALID' })
    await expect(
      mesh.select('acme.com/x/y', undefined, { maxCost: { unit: 'EURC', baseUnits: '500' } }),
    ).rejects.toMatchObject({ code: 'E_CURRENCY_MISMATCH' })
    await mesh.close()
  })
  it('error: a per-call random that is not a function is E_SELECT_OPTIONS_INVALID', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')])
    await expect(mesh.select('acme.com/x/y', undefined, { random: 0.5 as never })).rejects.toMatchObject({
      code: 'E_SELECT_OPTIONS_INVALID',
    })
    await expect(mesh.select('acme.com/x/y', null as never)).rejects.toMatchObject({
      code: 'E_SECURITY_CONTEXT_INVALID',
    })
    await mesh.close()
  })
  it('error: createMesh refuses bad rates and a non-function random', async () => {
    await expect(
      meshWith([], { rates: { reference: 'USDC', rates: { EURC: 'lots' } } }),
    ).rejects.toMatchObject({
      code: 'E_SELECT_OPTIONS_INVALID',
    })
    await expect(meshWith([], { random: 4 as never })).rejects.toMatchObject({
      code: 'E_SELECT_OPTIONS_INVALID',
    })
  })
  it('select results serialize with their reason', async () => {
    const mesh = await meshWith([draft('acme.com/x/y')], { strategy: 'lowest-cost' })
    const json = JSON.parse(JSON.stringify(await mesh.select('acme.com/x/y')))
    expect(json).toMatchObject({
      provider: { id: 'p1' },
      strategy: 'lowest-cost',
      candidates: ['p1', 'p2', 'p3'],
    })
    expect(json.reason).toContain('cheapest of 3')
    await mesh.close()
  })
  it('error: a version without providers is E_NO_PROVIDERS', async () => {
    const mesh = await meshWith([draft('acme.com/x/y', { providers: [] })])
    await expect(mesh.select('acme.com/x/y')).rejects.toMatchObject({ code: 'E_NO_PROVIDERS' })
    await mesh.close()
  })
})
