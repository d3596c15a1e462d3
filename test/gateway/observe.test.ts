import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGateway, STATUS_BY_CODE, statusOf } from '../../gateway/index.js'
import { createMesh } from '../../src/mesh.js'
import { type GatewayFixture, post, startGateway } from './_gateway.js'

// What the gateway shows about the node: the OpenAPI document against the routes it serves,
// Prometheus metrics driven by mesh events, peers from the peer node's service events, the live feed
// over server-sent events, and the one code -> status table against every code the mesh raises.

let g: GatewayFixture
beforeAll(async () => {
  g = await startGateway()
})
afterAll(() => g.close())

describe('gateway: OpenAPI', () => {
  it('documents every route the server answers, and only those', async () => {
    const doc = (await (await fetch(`${g.url}/openapi.json`)).json()) as {
      openapi: string
      paths: Record<
        string,
        Record<string, { operationId: string; responses: Record<string, unknown>; security?: unknown }>
      >
    }
    expect(doc.openapi).toBe('3.1.0')
    const served = g.gateway
      .service!.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .sort()
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort()
    expect(documented).toEqual([...new Set(served)])
    expect(documented).toEqual(
      expect.arrayContaining([
        'GET /v1/functions',
        'GET /v1/resolve',
        'GET /v1/select',
        'POST /v1/call',
        'POST /v1/dispatch',
        'GET /v1/calls/{invocationId}/lineage',
        'GET /v1/lineage/proofs/{entryId}',
        'GET /v1/lineage/checkpoint',
        'GET /v1/usage',
        'GET /v1/providers/health',
        'GET /v1/peers',
        'GET /v1/events',
        'GET /metrics',
        'GET /healthz',
        'GET /readyz',
        'GET /openapi.json',
        'GET /',
      ]),
    )
    expect(doc.paths['/v1/call']!.post!.security).toEqual([{ bearer: [] }])
    expect(Object.keys(doc.paths['/v1/call']!.post!.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '413', '415', '422', '429']),
    )
  })

  it('every documented GET route without parameters answers (none is a dead entry)', async () => {
    const doc = (await (await fetch(`${g.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { in: string; required: boolean }[] }>>
    }
    for (const [path, ops] of Object.entries(doc.paths)) {
      const get = ops.get
      if (get === undefined || path.includes('{') || path === '/v1/events') continue
      if ((get.parameters ?? []).some((p) => p.required)) continue
      const res = await fetch(`${g.url}${path}`)
      expect(res.status, path).toBe(200)
      await res.arrayBuffer()
    }
  })
})

describe('gateway: metrics, peers and the live feed', () => {
  it('serves Prometheus metrics from its own registry, driven by mesh events', async () => {
    await post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: { text: 'm' } }, { token: g.token })
    await post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: { text: 1 } }, { token: g.token })
    await fetch(`${g.url}/v1/resolve?name=acme.com/nope/x`)
    const res = await fetch(`${g.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    expect(text).toContain(
      'fmesh_calls_total{function="acme.com/text/upper",provider="local",outcome="ok"} 1',
    )
    expect(text).toMatch(
      /fmesh_calls_total\{function="acme.com\/text\/upper",provider="(local|none)",outcome="error"\} 1/,
    )
    expect(text).toContain('fmesh_call_duration_seconds_count{function="acme.com/text/upper",outcome="ok"} 1')
    expect(text).toContain('fmesh_charges_total{currency="USDC"} 1')
    expect(text).toContain('fmesh_charged_base_units_total{currency="USDC"} 10')
    expect(text).toMatch(/fmesh_resolutions_total\{source="marketplace",outcome="ok"\} \d+/)
    expect(text).toContain('fmesh_resolutions_total{source="none",outcome="error"} 1')
    expect(text).toContain('fmesh_cache_hit_ratio 0')
    expect(text).toContain(
      'fmesh_breaker_state{provider="local local:acme.com/text/upper@1.0.0",state="closed"} 1',
    )
    expect(text).toContain(
      'fmesh_breaker_state{provider="local local:acme.com/text/upper@1.0.0",state="open"} 0',
    )
    expect(text).toContain('fmesh_gateway_requests_total{route="/v1/call",method="POST",status="200"} 1')
    expect(text).toContain('fmesh_gateway_requests_total{route="/v1/call",method="POST",status="422"} 1')
    // prom-client's global registry stays empty: two gateways in one process never mix.
    const { register } = await import('prom-client')
    expect(await register.metrics()).not.toContain('fmesh_')
  })

  it('shows peers and gossip counts from the peer node service events', async () => {
    const peers = async () =>
      (await (await fetch(`${g.url}/v1/peers`)).json()) as { peers: { peerId: string }[]; gossip: object }
    expect(await peers()).toEqual({ peers: [], gossip: { accepted: 0, rejected: 0 } })
    g.mesh.events.emit('service', {
      type: 'peer:connect',
      peerId: '12D3KooWPeerA',
      addrs: ['/ip4/127.0.0.1/tcp/4001'],
    })
    g.mesh.events.emit('service', { type: 'peer:connect', peerId: '12D3KooWPeerB', addrs: [] })
    g.mesh.events.emit('service', {
      type: 'peer:gossip',
      outcome: 'accepted',
      name: 'acme.com/a/b',
      from: '12D3KooWPeerA',
    })
    g.mesh.events.emit('service', {
      type: 'peer:gossip',
      outcome: 'rejected',
      reason: 'bad signature',
      from: '12D3KooWPeerB',
    })
    g.mesh.events.emit('service', { type: 'peer:disconnect', peerId: '12D3KooWPeerB' })
    const now = await peers()
    expect(now.peers.map((p) => p.peerId)).toEqual(['12D3KooWPeerA'])
    expect(now.gossip).toEqual({ accepted: 1, rejected: 1 })
    const text = await (await fetch(`${g.url}/metrics`)).text()
    expect(text).toContain('fmesh_peers 1')
    expect(text).toContain('fmesh_gossip_total{outcome="accepted"} 1')
    expect(text).toContain('fmesh_gossip_total{outcome="rejected"} 1')
  })

  it('streams calls and announcements as server-sent events', async () => {
    const controller = new AbortController()
    const res = await fetch(`${g.url}/v1/events`, { signal: controller.signal })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    const next = async (event: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const match = new RegExp(`event: ${event}\\ndata: (.*)\\n`).exec(buffer)
        if (match) {
          buffer = buffer.slice(match.index + match[0].length)
          return JSON.parse(match[1]!) as Record<string, unknown>
        }
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before a ${event} event`)
        buffer += value
      }
    }
    await next('hello')
    const called = (await (
      await post(
        `${g.url}/v1/call`,
        { name: 'acme.com/text/upper', input: { text: 'live' } },
        { token: g.token },
      )
    ).json()) as { invocationId: string }
    const event = await next('call')
    expect(event).toMatchObject({
      name: 'acme.com/text/upper',
      outcome: 'ok',
      invocationId: called.invocationId,
      lineage: 'completed',
      charge: { amount: '10', currency: 'USDC' },
      principal: 'app',
    })
    g.mesh.events.emit('service', { type: 'peer:connect', peerId: '12D3KooWPeerC', addrs: [] })
    expect(await next('peer')).toMatchObject({ type: 'peer:connect', peerId: '12D3KooWPeerC' })
    controller.abort()
  })

  it('ends open event streams when the mesh closes', async () => {
    const h = await startGateway()
    const res = await fetch(`${h.url}/v1/events`)
    const reader = res.body!.getReader()
    await reader.read()
    await h.close()
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true }))
      if (r.done) break
    }
  })
})

describe('gateway: the code -> status table', () => {
  it('has a row for every code src/errors and the gateway raise; unknown codes are 500', () => {
    const root = new URL('../../', import.meta.url).pathname
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      )
    const declared = new Set<string>()
    const raised = new Set<string>()
    for (const file of [...files('src/errors'), 'gateway/errors.ts'])
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/'(E_[A-Z_]*[A-Z])'/g))
        declared.add(m[1]!)
    for (const file of [...files('src'), ...files('registries'), ...files('gateway')].filter(
      (f) => !f.startsWith('src/cli'),
    ))
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/MeshError\(\s*'(E_[A-Z_]*[A-Z])'/g))
        raised.add(m[1]!)
    expect(declared.size).toBeGreaterThan(60)
    // Under mutation testing (STRYKER_MUTATOR_WORKER is set) the mutated files are instrumented and no
    // longer read as `MeshError('E_...'`; the scan's own sanity check applies to the plain sources.
    if (process.env.STRYKER_MUTATOR_WORKER === undefined) expect(raised.size).toBeGreaterThan(5)
    expect([...declared].filter((c) => !Object.hasOwn(STATUS_BY_CODE, c))).toEqual([])
    expect([...raised].filter((c) => statusOf(c) === 500 && !Object.hasOwn(STATUS_BY_CODE, c))).toEqual([])
    expect(statusOf('E_FUNCTION_NOT_FOUND')).toBe(404)
    expect(statusOf('E_INPUT_INVALID')).toBe(422)
    expect(statusOf('E_BUDGET_EXCEEDED')).toBe(402)
    expect(statusOf('E_DEADLINE_EXCEEDED')).toBe(504)
    expect(statusOf('E_PROVIDER_UNREACHABLE')).toBe(502)
    expect(statusOf('E_MESH_CLOSED')).toBe(503)
    expect(statusOf('E_GIT_REMOTE')).toBe(502)
    expect(statusOf('E_SOMETHING_NEW')).toBe(500)
  })
})

describe('gateway: options', () => {
  it('error: refuses bad options naming the field', () => {
    expect(() => httpGateway({ port: 70000 })).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        details: expect.objectContaining({ path: 'gateway.port' }),
      }),
    )
    expect(() => httpGateway({ tokens: [{ principal: 'x' }] })).toThrow(
      /tokens\[0\]: give exactly one of tokenHash/,
    )
    expect(() => httpGateway({ tokens: [{ tokenHash: 'abc', principal: 'x' }] })).toThrow(
      /tokens\[0\]\.tokenHash/,
    )
    expect(() =>
      httpGateway({
        tokens: [{ token: 'long-enough-secret-1', principal: 'x', context: { level: 'nope' } as never }],
      }),
    ).toThrow(/tokens\[0\]\.context/)
    expect(() => httpGateway({ rateLimit: { perSecond: 0 } })).toThrow(/rateLimit.perSecond/)
    expect(() => httpGateway({ prot: 1 } as never)).toThrow(/gateway.prot: unknown option/)
  })

  it('error: a port in use is a clear error and the mesh does not start', async () => {
    await expect(createMesh({ services: [httpGateway({ port: g.gateway.port })] })).rejects.toMatchObject({
      code: 'E_GATEWAY_LISTEN',
      details: { reason: 'EADDRINUSE' },
    })
  })

  it('error: url before the mesh started it', () => {
    expect(() => httpGateway().url).toThrow(expect.objectContaining({ code: 'E_GATEWAY_NOT_STARTED' }))
  })
})
