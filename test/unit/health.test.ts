import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { type HealthChange, HealthTracker, providerKey } from '../../src/health/HealthTracker.js'
import { fakeClock } from '../_helpers/clock.js'
import { draft, meshWith, provider } from '../_helpers/selectFixtures.js'

function tracker(options = {}) {
  const clock = fakeClock(0)
  const health = new HealthTracker({ clock, ...options })
  const changes: HealthChange[] = []
  health.onChange((c) => changes.push(c))
  /** Runs one call of `ms` that ends well or not. */
  const call = (key: string, ms: number, ok = true) => {
    const outcome = health.begin(key)
    clock.advance(ms)
    if (ok) outcome.success()
    else outcome.failure(undefined, 'error')
  }
  return { clock, health, changes, call }
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError)
    return (err as MeshError).code
  }
  throw new Error('expected a MeshError')
}

describe('provider stats', () => {
  it('peak-EWMA jumps to a slower sample at once and decays with a 10 s time constant', () => {
    const { clock, health, call } = tracker()
    call('p', 20)
    expect(health.get('p').peakLatencyMs(clock.now())).toBe(20)
    call('p', 200)
    expect(health.get('p').peakLatencyMs(clock.now())).toBe(200)
    clock.advance(10_000)
    expect(health.get('p').peakLatencyMs(clock.now())).toBeCloseTo(200 / Math.E, 6)
  })
  it('the plain EWMA moves part of the way toward each sample', () => {
    const { clock, health, call } = tracker()
    call('p', 100)
    clock.advance(10_000)
    call('p', 0)
    expect(health.get('p').latencyMs(clock.now())).toBeCloseTo(100 / Math.E, 6)
  })
  it('failures count as at least failurePenaltyMs, so failing fast looks slow', () => {
    const { clock, health, call } = tracker()
    call('p', 1, false)
    expect(health.get('p').peakLatencyMs(clock.now())).toBe(5000)
    expect(health.get('p').latencyMs(clock.now())).toBe(5000)
  })
  it('counts calls in flight; cancel releases without a sample; settling twice is ignored', () => {
    const { health } = tracker()
    const a = health.begin('p')
    const b = health.begin('p')
    expect(health.get('p').inFlight).toBe(2)
    expect(a.cancel()).toBe(true)
    expect(b.success(5)).toBe(true)
    expect(b.failure(5)).toBe(false)
    expect(health.get('p')).toMatchObject({ inFlight: 0, samples: 1 })
  })
  it('success ratio covers the sliding window only', () => {
    const { clock, health, call } = tracker()
    call('p', 10, false)
    clock.advance(30_000)
    call('p', 10)
    call('p', 10)
    expect(health.get('p').successRatio(clock.now())).toBeCloseTo(2 / 3)
    clock.advance(31_000)
    expect(health.get('p').successRatio(clock.now())).toBe(1)
    clock.advance(60_000)
    expect(health.get('p').successRatio(clock.now())).toBeUndefined()
  })
  it('keys providers by id and endpoint', () =>
    expect(providerKey(provider('p1'))).toBe('p1 https://p1.example/fn'))
  it('error: impossible latencies and unknown failure kinds are E_HEALTH_SAMPLE_INVALID', () => {
    const { health } = tracker()
    expect(code(() => health.begin('p').success(-1))).toBe('E_HEALTH_SAMPLE_INVALID')
    expect(code(() => health.begin('p').success(Number.NaN))).toBe('E_HEALTH_SAMPLE_INVALID')
    expect(code(() => health.begin('p').failure(Number.POSITIVE_INFINITY))).toBe('E_HEALTH_SAMPLE_INVALID')
    expect(code(() => health.begin('p').failure(1, 'meh' as never))).toBe('E_HEALTH_SAMPLE_INVALID')
  })
  it('error: bad options are E_HEALTH_OPTIONS_INVALID naming the option', () => {
    expect(code(() => new HealthTracker({ decayMs: 0 }))).toBe('E_HEALTH_OPTIONS_INVALID')
    expect(code(() => new HealthTracker({ failureRatio: 1 }))).toBe('E_HEALTH_OPTIONS_INVALID')
    expect(code(() => new HealthTracker({ ratioMinimumCalls: 30 }))).toBe('E_HEALTH_OPTIONS_INVALID')
    expect(code(() => new HealthTracker({ bogus: 1 } as never))).toBe('E_HEALTH_OPTIONS_INVALID')
  })
})

describe('circuit breaking', () => {
  it('opens after 5 consecutive failures, half-opens after 5 s, closes after the probes succeed', () => {
    const { clock, health, changes, call } = tracker()
    for (let i = 0; i < 4; i++) call('p', 1, false)
    expect(health.get('p').admits(clock.now())).toBe(true)
    call('p', 1, false)
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['closed->open'])
    expect(changes[0]!.reason).toContain('5 consecutive failures')
    expect(health.unhealthy).toBe(1)
    expect(health.get('p').admits(clock.now())).toBe(false)
    clock.advance(5_000)
    expect(health.get('p').admits(clock.now())).toBe(true)
    expect(health.snapshot('p')?.circuit).toBe('half-open')
    // Two probes at once, no third.
    const first = health.begin('p')
    const second = health.begin('p')
    expect(health.get('p').admits(clock.now())).toBe(false)
    first.success(10)
    second.success(10)
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'closed'])
    expect(health.unhealthy).toBe(0)
  })
  it('a failed probe re-opens the circuit for twice as long', () => {
    const { clock, health, changes, call } = tracker()
    for (let i = 0; i < 5; i++) call('p', 1, false)
    clock.advance(5_000)
    call('p', 1, false)
    expect(changes.at(-1)).toMatchObject({
      to: 'open',
      reason: expect.stringContaining('half-open in 10000 ms'),
    })
    clock.advance(9_000)
    expect(health.get('p').admits(clock.now())).toBe(false)
    clock.advance(1_000)
    expect(health.get('p').admits(clock.now())).toBe(true)
  })
  it('opens on the failure ratio over the last calls even without 5 in a row', () => {
    const { health, changes, call } = tracker()
    for (let i = 0; i < 12; i++) call('p', 1, i % 3 !== 0) // 1 in 3 fail: below the ratio
    expect(changes).toEqual([])
    for (let i = 0; i < 12; i++) call('p', 1, i % 4 === 0) // now 3 in 4 fail, never 5 in a row
    expect(changes[0]?.reason).toContain('failure ratio above 0.5')
    expect(health.unhealthy).toBe(1)
  })
})

describe('health in select', () => {
  const name = 'acme.com/x/y'
  const trip = (mesh: Awaited<ReturnType<typeof meshWith>>, id: string) => {
    for (let i = 0; i < 5; i++) mesh.health.begin(provider(id)).failure(1)
  }

  it('ejects a provider with an open circuit and names the rule, at once (no stale cached selection)', async () => {
    const mesh = await meshWith([draft(name)], { strategy: 'fastest' })
    expect((await mesh.select(name)).provider.id).toBe('p3')
    trip(mesh, 'p3')
    const result = await mesh.select(name)
    expect(result.provider.id).toBe('p2')
    expect(result.removed).toEqual([
      {
        provider: expect.objectContaining({ id: 'p3' }),
        violations: [
          { rule: 'health.circuitOpen', scope: 'health', message: expect.stringContaining('circuit open') },
        ],
      },
    ])
    await mesh.close()
  })
  it('a cached health pass follows every change: open time ending, probe slots, closing', async () => {
    const clock = fakeClock()
    const mesh = await meshWith([draft(name)], { strategy: 'lowest-cost', clock })
    trip(mesh, 'p1')
    expect((await mesh.select(name)).provider.id).toBe('p2')
    expect((await mesh.select(name)).provider.id).toBe('p2')
    clock.advance(5_000)
    expect((await mesh.select(name)).provider.id).toBe('p1') // half-open: admitted as a probe
    const probes = [mesh.health.begin(provider('p1')), mesh.health.begin(provider('p1'))]
    expect((await mesh.select(name)).provider.id).toBe('p2') // both probe slots taken
    probes[0]!.success(10)
    expect((await mesh.select(name)).provider.id).toBe('p1') // a slot is free again
    probes[1]!.success(10)
    const closed = await mesh.select(name)
    expect([closed.provider.id, closed.removed]).toEqual(['p1', []])
    expect(mesh.health.snapshot(providerKey(provider('p1')))?.circuit).toBe('closed')
    await mesh.close()
  })
  it('never ejects more than maxEjectionShare of a function, and says so in the reason', async () => {
    const mesh = await meshWith([draft(name)], { strategy: 'lowest-cost' })
    trip(mesh, 'p1')
    trip(mesh, 'p2')
    const result = await mesh.select(name)
    // floor(3 x 0.5) = 1 may go: p2 opened last, so p1 (half-open first) stays in.
    expect(result.ejection).toEqual({ ejected: ['p2'], kept: ['p1'], limit: 1, allowed: 3 })
    expect(result.candidates.map((c) => c.provider.id)).toEqual(['p1', 'p3'])
    expect(result.reason).toContain('ejection capped: circuits open on p2, p1')
    await mesh.close()
  })
  it('keeps the only provider of a function in, explicitly', async () => {
    const mesh = await meshWith([draft(name, { providers: [provider('solo', '1')] })])
    trip(mesh, 'solo')
    const result = await mesh.select(name)
    expect(result.provider.id).toBe('solo')
    expect(result.ejection).toEqual({ ejected: [], kept: ['solo'], limit: 0, allowed: 1 })
    await mesh.close()
  })
  it('error: with maxEjectionShare 1 and every circuit open, E_NO_HEALTHY_PROVIDER', async () => {
    const mesh = await meshWith([draft(name, { providers: [provider('solo', '1')] })], {
      health: { maxEjectionShare: 1 },
    })
    trip(mesh, 'solo')
    await expect(mesh.select(name)).rejects.toMatchObject({ code: 'E_NO_HEALTHY_PROVIDER' })
    await mesh.close()
  })
  it('error: createMesh refuses bad health options', async () => {
    await expect(meshWith([], { health: { maxEjectionShare: 2 } })).rejects.toMatchObject({
      code: 'E_HEALTH_OPTIONS_INVALID',
    })
  })
})
