import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Tally } from '../../gateway/_tally.js'

// The gateway's counters are summed per label set between scrapes: a scrape reads exactly what
// direct increments would have given, every label set in the order first seen, and nothing twice.
describe('gateway: Tally', () => {
  function counter() {
    const registry = new Registry()
    const tally = new Tally<'route' | 'status'>()
    const c: Counter<'route' | 'status'> = new Counter({
      name: 'requests_total',
      help: 'requests',
      labelNames: ['route', 'status'],
      registers: [registry],
      collect: () => tally.flush(c),
    })
    const add = (route: string, status: number, n?: number) =>
      tally.add(`${route}\u0000${status}`, () => ({ route, status }), n)
    return { registry, add }
  }

  it('a scrape shows the sums of every increment since the last one, and later scrapes add on', async () => {
    const { registry, add } = counter()
    for (let i = 0; i < 1000; i++) add('/v1/call', 200)
    add('/v1/call', 422)
    add('/v1/resolve', 200, 5)
    const first = await registry.metrics()
    expect(first).toContain('requests_total{route="/v1/call",status="200"} 1000')
    expect(first).toContain('requests_total{route="/v1/call",status="422"} 1')
    expect(first).toContain('requests_total{route="/v1/resolve",status="200"} 5')
    // Nothing new: the same figures (flushed sums are not added again).
    expect(await registry.metrics()).toBe(first)
    add('/v1/call', 200)
    expect(await registry.metrics()).toContain('requests_total{route="/v1/call",status="200"} 1001')
  })

  it('calls the labels function once per label set between scrapes', async () => {
    const registry = new Registry()
    const tally = new Tally<'currency'>()
    const c: Counter<'currency'> = new Counter({
      name: 'charges_total',
      help: 'charges',
      labelNames: ['currency'],
      registers: [registry],
      collect: () => tally.flush(c),
    })
    let made = 0
    const labels = () => {
      made++
      return { currency: 'USDC' }
    }
    for (let i = 0; i < 10; i++) tally.add('USDC', labels)
    expect(made).toBe(1)
    expect(await registry.metrics()).toContain('charges_total{currency="USDC"} 10')
  })
})
