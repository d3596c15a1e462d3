import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Mesh } from '../src/mesh.js'
import type { LiveState } from './_liveState.js'
import { Tally } from './_tally.js'

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const

/**
 * The gateway's Prometheus metrics, in a registry of their own (never prom-client's global one, so two
 * gateways in one process do not mix). Counters move on `mesh.events`; gauges (cache hit ratio,
 * breaker states, peers) are read when scraped.
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  private readonly resolutions: Counter<'source' | 'outcome'>
  private readonly registryLatency: Histogram<'registry'>
  private readonly calls: Counter<'function' | 'provider' | 'outcome'>
  private readonly callLatency: Histogram<'function' | 'outcome'>
  private readonly charged: Counter<'currency'>
  private readonly charges: Counter<'currency'>
  private readonly publishes: Counter
  private readonly changes: Counter<'registry'>
  private readonly gossip: Counter<'outcome'>
  private readonly http: Counter<'route' | 'method' | 'status'>
  // Per-request and per-call increments, summed until a scrape (see Tally).
  private readonly httpTally = new Tally<'route' | 'method' | 'status'>()
  private readonly resolutionTally = new Tally<'source' | 'outcome'>()
  private readonly callTally = new Tally<'function' | 'provider' | 'outcome'>()
  private readonly chargeTally = new Tally<'currency'>()
  private readonly chargedTally = new Tally<'currency'>()
  private cacheHits = 0
  private registryResolves = 0
  private readonly offs: (() => void)[] = []

  constructor(mesh: Mesh, state: LiveState) {
    const registers = [this.registry]
    this.resolutions = new Counter({
      name: 'fmesh_resolutions_total',
      help: 'Resolutions by where the answer came from (marketplace, cache, registry, none) and outcome',
      labelNames: ['source', 'outcome'],
      registers,
      collect: () => this.resolutionTally.flush(this.resolutions),
    })
    const ratio: Gauge = new Gauge({
      name: 'fmesh_cache_hit_ratio',
      help: 'Share of resolutions not answered by the marketplace that the cache answered',
      registers,
      collect: () => {
        const total = this.cacheHits + this.registryResolves
        ratio.set(total === 0 ? 0 : this.cacheHits / total)
      },
    })
    this.registryLatency = new Histogram({
      name: 'fmesh_registry_lookup_duration_seconds',
      help: 'Time of resolutions answered by a registry (cache misses), by the registry that answered',
      labelNames: ['registry'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.calls = new Counter({
      name: 'fmesh_calls_total',
      help: 'Governed calls by function, provider and outcome',
      labelNames: ['function', 'provider', 'outcome'],
      registers,
      collect: () => this.callTally.flush(this.calls),
    })
    this.callLatency = new Histogram({
      name: 'fmesh_call_duration_seconds',
      help: 'Governed call time, all attempts included, by function and outcome',
      labelNames: ['function', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.charged = new Counter({
      name: 'fmesh_charged_base_units_total',
      help: 'Charged amounts in integer base units of each currency (exact totals: GET /v1/usage)',
      labelNames: ['currency'],
      registers,
      collect: () => this.chargedTally.flush(this.charged),
    })
    this.charges = new Counter({
      name: 'fmesh_charges_total',
      help: 'Charges written with FUNCTION_COMPLETED entries, by currency',
      labelNames: ['currency'],
      registers,
      collect: () => this.chargeTally.flush(this.charges),
    })
    this.publishes = new Counter({
      name: 'fmesh_publishes_total',
      help: 'Records published through this node',
      registers,
    })
    this.changes = new Counter({
      name: 'fmesh_registry_changes_total',
      help: 'Change notices from registries (syncs, chain events, peer announcements)',
      labelNames: ['registry'],
      registers,
    })
    this.gossip = new Counter({
      name: 'fmesh_gossip_total',
      help: 'Gossip announcements received from peers, by outcome (accepted, rejected)',
      labelNames: ['outcome'],
      registers,
    })
    const peers: Gauge = new Gauge({
      name: 'fmesh_peers',
      help: 'Connected peers',
      registers,
      collect: () => peers.set(state.peers.size),
    })
    const breakers: Gauge<'provider' | 'state'> = new Gauge({
      name: 'fmesh_breaker_state',
      help: 'Circuit breaker of each provider seen: 1 for its current state (closed, half-open, open)',
      labelNames: ['provider', 'state'],
      registers,
      collect: () => {
        breakers.reset()
        for (const key of state.providerKeys) {
          const circuit = mesh.health.snapshot(key)?.circuit ?? 'closed'
          for (const s of CIRCUIT_STATES) breakers.set({ provider: key, state: s }, s === circuit ? 1 : 0)
        }
      },
    })
    const feed: Gauge = new Gauge({
      name: 'fmesh_gateway_feed_subscribers',
      help: 'Open /v1/events streams',
      registers,
      collect: () => feed.set(state.subscriberCount),
    })
    this.http = new Counter({
      name: 'fmesh_gateway_requests_total',
      help: 'HTTP requests to the gateway by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
      collect: () => this.httpTally.flush(this.http),
    })
    for (const outcome of ['accepted', 'rejected']) this.gossip.inc({ outcome }, 0)
    this.offs.push(
      mesh.events.on('resolve', (e) => {
        const source = e.source?.kind ?? 'none'
        const outcome = e.outcome
        this.resolutionTally.add(`${source}\u0000${outcome}`, () => ({ source, outcome }))
        if (e.source?.kind === 'cache') this.cacheHits++
        else if (e.source?.kind === 'registry') {
          this.registryResolves++
          this.registryLatency.observe({ registry: e.source.registry }, e.durationMs / 1000)
        }
      }),
      mesh.events.on('call', (e) => {
        const { name, outcome } = e
        const provider = e.providerId ?? 'none'
        this.callTally.add(`${name}\u0000${provider}\u0000${outcome}`, () => ({
          function: name,
          provider,
          outcome,
        }))
        this.callLatency.observe({ function: name, outcome }, e.durationMs / 1000)
        if (e.charge !== undefined && e.replayed !== true) {
          const currency = e.charge.currency
          this.chargeTally.add(currency, () => ({ currency }))
          const amount = Number(e.charge.amount)
          if (amount > 0) this.chargedTally.add(currency, () => ({ currency }), amount)
        }
      }),
      mesh.events.on('publish', () => this.publishes.inc()),
      mesh.events.on('change', (e) => this.changes.inc({ registry: e.registry })),
      mesh.events.on('service', (e) => {
        if (e.type === 'peer:gossip' && (e.outcome === 'accepted' || e.outcome === 'rejected'))
          this.gossip.inc({ outcome: e.outcome })
      }),
    )
  }

  /** Counts one answered HTTP request (`fmesh_gateway_requests_total`). */
  countRequest(route: string, method: string, status: number): void {
    this.httpTally.add(`${status}\u0000${method}\u0000${route}`, () => ({ route, method, status }))
  }

  /**
   * {@link countRequest} for one route, its tally keys kept by status: a hot route's count makes no
   * key string or label closure per request.
   */
  requestCounter(route: string, method: string): (status: number) => void {
    const byStatus = new Map<
      number,
      { key: string; labels: () => { route: string; method: string; status: number } }
    >()
    return (status) => {
      let known = byStatus.get(status)
      if (known === undefined) {
        known = { key: `${status}\u0000${method}\u0000${route}`, labels: () => ({ route, method, status }) }
        byStatus.set(status, known)
      }
      this.httpTally.add(known.key, known.labels)
    }
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off()
  }
}
