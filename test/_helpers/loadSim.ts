import type { CallOutcome } from '../../src/health/HealthTracker.js'
import type { MeshInit } from '../../src/meshOptions.js'
import { seededRandom } from '../../src/select/seededRandom.js'
import type { Strategy, StrategySpec } from '../../src/select/types.js'
import { fakeClock } from './clock.js'
import { draft, meshWith, provider } from './selectFixtures.js'

/** How one simulated provider behaves at a given time. */
export interface Behaviour {
  /** Median latency in ms (lognormal, sigma 0.25). */
  medianMs: number
  /** Fails after `failMs` instead of answering. */
  fails?: boolean
  failMs?: number
}

export interface SimInit {
  strategy: StrategySpec
  /** Behaviour of each of the three providers at simulated time t (ms since start). */
  behaviour: (id: string, t: number) => Behaviour
  seed: number
  /** Calls per second (Poisson arrivals). @default 200 */
  rps?: number
  /** @default 70000 */
  durationMs?: number
  /** Measuring starts here (the change happens here too). @default 10000 */
  measureFromMs?: number
  /** Concurrency a provider serves without queueing; above it latency grows linearly. @default 16 */
  capacity?: number
  mesh?: MeshInit
}

export interface SimResult {
  /** p50 and p99 latency of successful calls in the measured window. */
  p50: number
  p99: number
  calls: number
  failures: number
  /** Calls sent to each provider in the measured window. */
  perProvider: Record<string, number>
  /** When the circuit of each provider first opened, if it did. */
  openedAt: Record<string, number>
  /** Calls sent to each provider after its circuit first opened. */
  afterOpen: Record<string, number>
  /** All calls started after each provider's circuit first opened. */
  callsAfterOpen: Record<string, number>
}

interface Pending {
  at: number
  id: string
  outcome: CallOutcome
  ok: boolean
  latency: number
  measured: boolean
}

/**
 * A discrete-event simulation of callers selecting among three providers through `mesh.select` and
 * reporting outcomes to `mesh.health`: fake clock, seeded randomness, no sleeping. Latencies are
 * lognormal around each provider's median, stretched when a provider has more calls in flight than
 * its capacity.
 */
export async function simulate(init: SimInit): Promise<SimResult> {
  const rps = init.rps ?? 200
  const duration = init.durationMs ?? 70_000
  const from = init.measureFromMs ?? 10_000
  const capacity = init.capacity ?? 16
  const start = Date.parse('2026-11-22T00:00:00Z')
  const clock = fakeClock(start)
  const random = seededRandom(init.seed)
  const world = seededRandom(init.seed ^ 0x5eed)
  const name = 'acme.com/sim/fn'
  const mesh = await meshWith(
    [draft(name, { providers: ['a', 'b', 'c'].map((id) => provider(id, '100', 20)) })],
    {
      clock,
      random,
      strategy: init.strategy,
      ...init.mesh,
    },
  )
  const openedAt: Record<string, number> = {}
  mesh.health.onChange((c) => {
    const id = c.key.split(' ')[0]!
    if (c.to === 'open' && openedAt[id] === undefined) openedAt[id] = c.at - start
  })
  const inFlight: Record<string, number> = { a: 0, b: 0, c: 0 }
  const heap: Pending[] = []
  const latencies: number[] = []
  const perProvider: Record<string, number> = { a: 0, b: 0, c: 0 }
  const afterOpen: Record<string, number> = {}
  const callsAfterOpen: Record<string, number> = {}
  let calls = 0
  let failures = 0
  let nextArrival = 0
  const gauss = () => {
    // Box-Muller on the world's seeded source.
    const u = 1 - world()
    const v = world()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  while (true) {
    const top = heap[0]
    const t = top !== undefined && top.at - start <= nextArrival ? top.at - start : nextArrival
    if (t > duration && top === undefined) break
    clock.set(start + t)
    if (top !== undefined && top.at - start === t) {
      pop(heap)
      inFlight[top.id]!--
      if (top.ok) {
        top.outcome.success(top.latency)
        if (top.measured) latencies.push(top.latency)
      } else top.outcome.failure(top.latency, 'error')
      continue
    }
    nextArrival = t + (-Math.log(1 - world()) * 1000) / rps
    if (t > duration) continue
    const selection = await mesh.select(name)
    const id = selection.provider.id
    const behaviour = init.behaviour(id, t)
    const load = Math.max(0, inFlight[id]! + 1 - capacity) / capacity
    const ok = behaviour.fails !== true
    const latency = ok ? behaviour.medianMs * Math.exp(0.25 * gauss()) * (1 + load) : (behaviour.failMs ?? 1)
    const measured = t >= from
    if (measured) {
      calls++
      perProvider[id]!++
      if (!ok) failures++
    }
    for (const [opened, at] of Object.entries(openedAt)) {
      if (t < at) continue
      callsAfterOpen[opened] = (callsAfterOpen[opened] ?? 0) + 1
      if (opened === id) afterOpen[id] = (afterOpen[id] ?? 0) + 1
    }
    inFlight[id]!++
    push(heap, {
      at: start + t + latency,
      id,
      outcome: mesh.health.begin(selection.provider),
      ok,
      latency,
      measured,
    })
  }
  await mesh.close()
  latencies.sort((x, y) => x - y)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
  return { p50: q(0.5), p99: q(0.99), calls, failures, perProvider, openedAt, afterOpen, callsAfterOpen }
}

/** A stateful round-robin, for contrast only (not a pure strategy). */
export function roundRobin(): Strategy {
  let next = 0
  return function roundRobin({ candidates }) {
    const candidate = candidates[next++ % candidates.length]!
    return { candidate, reason: `round-robin: ${candidate.provider.id}` }
  }
}

function push(heap: Pending[], item: Pending): void {
  heap.push(item)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.at <= item.at) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = item
}

function pop(heap: Pending[]): Pending | undefined {
  const top = heap[0]
  const last = heap.pop()
  if (heap.length === 0 || last === undefined) return top
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    const at = (k: number) => (k === i ? last.at : heap[k]!.at)
    if (l < heap.length && heap[l]!.at < at(m)) m = l
    if (r < heap.length && heap[r]!.at < at(m)) m = r
    if (m === i) break
    heap[i] = heap[m]!
    i = m
  }
  heap[i] = last
  return top
}
