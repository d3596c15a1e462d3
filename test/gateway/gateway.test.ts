import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateToken } from '../../gateway/tokens.js'
import { sampleDraft } from '../_helpers/records.js'
import { type GatewayFixture, post, startGateway } from './_gateway.js'

// The gateway over real HTTP on 127.0.0.1: a real mesh with a SQLite ledger, a memory registry holding
// a signed record, and the local upper function (10 USDC base units a call).

let g: GatewayFixture
beforeAll(async () => {
  g = await startGateway()
  await g.mesh.publish(sampleDraft(), { signer: g.signer })
  g.mesh.marketplace.register(
    {
      name: 'acme.com/events/audit',
      version: '1.0.0',
      triggerEvents: ['order.created'],
      cost: { unit: 'USDC', baseUnits: '3' },
    },
    (event: unknown) => ({ seen: event }),
  )
  g.mesh.marketplace.register(
    { name: 'acme.com/pay/charge', version: '1.0.0', idempotency: 'exactly-once', maxRisk: 'read-only' },
    () => ({ charged: true }),
  )
})
afterAll(() => g.close())

const call = (body: unknown, token = g.token, headers: Record<string, string> = {}) =>
  post(`${g.url}/v1/call`, body, { token, headers })

async function errorOf(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as {
    name: string
    code: string
    shortMessage: string
    message: string
    hint?: string
  }
  expect(body.name).toBeTypeOf('string')
  expect(body.message.length).toBeGreaterThan(body.shortMessage.length - 1)
  return { status: res.status, ...body }
}

describe('gateway: reads', () => {
  it('listens on 127.0.0.1 and answers /healthz and /readyz', async () => {
    expect(g.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await (await fetch(`${g.url}/healthz`)).json()).toEqual({ ok: true })
    const ready = await fetch(`${g.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      ready: true,
      registries: ['mem'],
      ledgerKey: expect.stringMatching(/^did:key:/),
    })
  })

  it('lists marketplace functions and the names the registries list, with details on request', async () => {
    const list = (await (await fetch(`${g.url}/v1/functions`)).json()) as {
      functions: { name: string; sources: string[] }[]
      registries: { id: string; status: string }[]
    }
    const names = list.functions.map((f) => f.name)
    expect(names).toEqual([...names].sort())
    expect(list.functions).toContainEqual(
      expect.objectContaining({ name: 'acme.com/text/upper', sources: ['marketplace'] }),
    )
    expect(list.functions).toContainEqual(
      expect.objectContaining({ name: 'acme.com/image/sharpen', sources: ['mem'] }),
    )
    expect(list.registries).toEqual([{ id: 'mem', status: 'ok', names: 1 }])
    const detailed = (await (await fetch(`${g.url}/v1/functions?q=sharpen&details=true`)).json()) as {
      functions: {
        name: string
        latestVersion: string
        versions: { version: string; providers: { id: string; health: { circuit: string } }[] }[]
      }[]
    }
    expect(detailed.functions.map((f) => f.name)).toEqual(['acme.com/image/sharpen'])
    const [fn] = detailed.functions
    expect(fn!.latestVersion).toBe('1.4.1')
    expect(fn!.versions.map((v) => v.version)).toEqual(['2.0.0-beta.1', '1.4.1', '1.2.0', '1.0.0'])
    expect(fn!.versions[1]!.providers.map((p) => [p.id, p.health.circuit])).toEqual([
      ['provider-123', 'closed'],
      ['provider-456', 'closed'],
    ])
  })

  it('resolves a name, saying where the answer came from', async () => {
    const res = await fetch(
      `${g.url}/v1/resolve?name=${encodeURIComponent('acme.com/image/sharpen@^1.2')}&cache=refresh`,
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      version: string
      source: { kind: string; registry: string }
      verified: { method: string }
    }
    expect(body).toMatchObject({
      version: '1.4.1',
      source: { kind: 'registry', registry: 'mem' },
      verified: { method: 'signature' },
    })
    const local = (await (await fetch(`${g.url}/v1/resolve?name=acme.com/text/upper`)).json()) as {
      source: unknown
    }
    expect(local.source).toEqual({ kind: 'marketplace' })
  })

  it('selects with the reason, the candidates and their health', async () => {
    const res = await fetch(`${g.url}/v1/select?name=acme.com/image/sharpen@1.4.1&strategy=lowest-cost`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      strategy: string
      reason: string
      provider: { id: string }
      candidates: { key: string; cost: string }[]
      removed: { provider: { id: string } }[]
    }
    expect(body.strategy).toBe('lowest-cost')
    expect(body.reason.length).toBeGreaterThan(0)
    // The record trusts provider-123 only, so provider-456 is removed by the record's own rule.
    expect(body.provider.id).toBe('provider-123')
    expect(body.candidates.map((c) => c.cost)).toEqual(['10000'])
    expect(body.removed.map((r) => r.provider.id)).toEqual(['provider-456'])
  })

  it("selects under a token's security context when one is sent", async () => {
    const pure = generateToken()
    const h = await startGateway({
      tokens: [{ tokenHash: pure.tokenHash, principal: 'p', context: { level: 'pure' } }],
    })
    try {
      const res = await fetch(`${h.url}/v1/select?name=acme.com/text/upper`, {
        headers: { authorization: `Bearer ${pure.token}` },
      })
      const err = await errorOf(res)
      expect([err.status, err.code]).toEqual([403, 'E_NO_ALLOWED_PROVIDER'])
      expect((await fetch(`${h.url}/v1/select?name=acme.com/text/upper`)).status).toBe(200)
    } finally {
      await h.close()
    }
  })

  it('error: unknown names, bad names and bad query parameters are MeshError JSON with their status', async () => {
    const missing = await errorOf(await fetch(`${g.url}/v1/resolve?name=acme.com/nope/none`))
    expect([missing.status, missing.code]).toEqual([404, 'E_FUNCTION_NOT_FOUND'])
    const bad = await errorOf(await fetch(`${g.url}/v1/resolve?name=${encodeURIComponent('Bad Name!')}`))
    expect([bad.status, bad.code]).toEqual([400, 'E_NAME_INVALID'])
    const noName = await errorOf(await fetch(`${g.url}/v1/resolve`))
    expect([noName.status, noName.code, noName.shortMessage]).toEqual([
      400,
      'E_REQUEST_INVALID',
      expect.stringContaining('query at name'),
    ])
    const typo = await errorOf(await fetch(`${g.url}/v1/resolve?name=acme.com/text/upper&cahce=refresh`))
    expect([typo.status, typo.shortMessage]).toEqual([400, expect.stringContaining('unknown field cahce')])
    const strategy = await errorOf(
      await fetch(`${g.url}/v1/select?name=acme.com/text/upper&strategy=cheapest`),
    )
    expect([strategy.status, strategy.code]).toEqual([400, 'E_REQUEST_INVALID'])
    const glob = await errorOf(await fetch(`${g.url}/v1/functions?pattern=${encodeURIComponent('<script>')}`))
    expect([glob.status, glob.code]).toEqual([400, 'E_REQUEST_INVALID'])
  })

  it('error: unknown routes are 404 and wrong methods 405, as MeshError JSON', async () => {
    const unknown = await errorOf(await fetch(`${g.url}/v1/nothing-here`))
    expect([unknown.status, unknown.code]).toEqual([404, 'E_ROUTE_NOT_FOUND'])
    const method = await fetch(`${g.url}/v1/call`)
    expect(method.headers.get('allow')).toBe('POST')
    const err = await errorOf(method)
    expect([err.status, err.code]).toEqual([405, 'E_METHOD_NOT_ALLOWED'])
    const put = await errorOf(await fetch(`${g.url}/v1/resolve?name=x`, { method: 'PUT' }))
    expect(put.status).toBe(405)
  })
})

describe('gateway: calls', () => {
  it("calls a function as the token's principal and leaves lineage, a proof and a charge", async () => {
    const res = await call({ name: 'acme.com/text/upper', input: { text: 'hello' } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      output: unknown
      invocationId: string
      replayed: boolean
      charge: { amount: string; currency: string; entry: string }
      lineage: { completed: string }
    }
    expect(body.output).toEqual({ text: 'HELLO' })
    expect(body.replayed).toBe(false)
    expect(body.charge).toMatchObject({ amount: '10', currency: 'USDC', entry: body.lineage.completed })
    const lineage = (await (await fetch(`${g.url}/v1/calls/${body.invocationId}/lineage`)).json()) as {
      entries: { id: string; entry: { type: string; principal: string } }[]
    }
    expect(lineage.entries.map((e) => [e.entry.type, e.entry.principal])).toEqual([
      ['FUNCTION_INVOKED', 'app'],
      ['FUNCTION_COMPLETED', 'app'],
    ])
    const proof = (await (await fetch(`${g.url}/v1/lineage/proofs/${body.lineage.completed}`)).json()) as {
      entryId: string
      checkpoint: { signature: string; keyId: string }
    }
    expect(proof.entryId).toBe(body.lineage.completed)
    const { keyId } = (await (await fetch(`${g.url}/v1/lineage/key`)).json()) as { keyId: string }
    expect(proof.checkpoint.keyId).toBe(keyId)
    const { verifyInclusion } = await import('../../src/ledger/checkpoint.js')
    expect(verifyInclusion(proof as never, { keyId })).toBe(true)
    const checkpoint = (await (await fetch(`${g.url}/v1/lineage/checkpoint`)).json()) as {
      treeSize: number
      keyId: string
    }
    expect(checkpoint.keyId).toBe(keyId)
    expect(checkpoint.treeSize).toBeGreaterThanOrEqual(2)
    const missing = await errorOf(await fetch(`${g.url}/v1/calls/no-such-invocation/lineage`))
    expect([missing.status, missing.code]).toEqual([404, 'E_LINEAGE_ENTRY_NOT_FOUND'])
  })

  it('replays a call with the same Idempotency-Key: the first result, exactly one charge', async () => {
    const before = await g.mesh.lineage.verify()
    const first = await call({ name: 'acme.com/text/upper', input: { text: 'once' } }, g.token, {
      'Idempotency-Key': 'order-42',
    })
    const second = await call({ name: 'acme.com/text/upper', input: { text: 'once' } }, g.token, {
      'Idempotency-Key': 'order-42',
    })
    expect([first.status, second.status]).toEqual([200, 200])
    expect(first.headers.get('idempotency-replayed')).toBeNull()
    expect(second.headers.get('idempotency-replayed')).toBe('true')
    const a = (await first.json()) as { invocationId: string; charge: unknown; replayed: boolean }
    const b = (await second.json()) as { invocationId: string; charge: unknown; replayed: boolean }
    expect(b).toMatchObject({ invocationId: a.invocationId, charge: a.charge, replayed: true })
    const after = await g.mesh.lineage.verify()
    expect(after.ok).toBe(true)
    expect(after.completed - before.completed).toBe(1)
    expect(after.charges - before.charges).toBe(1)
    const conflict = await errorOf(
      await call({ name: 'acme.com/text/upper', input: { text: 'other' } }, g.token, {
        'Idempotency-Key': 'order-42',
      }),
    )
    expect([conflict.status, conflict.code]).toEqual([409, 'E_IDEMPOTENCY_CONFLICT'])
    const mismatch = await errorOf(
      await call({ name: 'acme.com/text/upper', input: { text: 'x' }, idempotencyKey: 'a' }, g.token, {
        'Idempotency-Key': 'b',
      }),
    )
    expect([mismatch.status, mismatch.code]).toEqual([400, 'E_REQUEST_INVALID'])
    const exactlyOnce = await errorOf(await call({ name: 'acme.com/pay/charge', input: {} }))
    expect([exactlyOnce.status, exactlyOnce.code]).toEqual([428, 'E_IDEMPOTENCY_KEY_REQUIRED'])
  })

  it('dispatches an event to the functions that listen for its kind', async () => {
    const res = await post(
      `${g.url}/v1/dispatch`,
      { kind: 'order.created', event: { order: 7 } },
      { token: g.token },
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      results: { name: string; ok: boolean; result: { output: unknown; charge: { amount: string } } }[]
    }
    expect(body.results).toHaveLength(1)
    expect(body.results[0]).toMatchObject({
      name: 'acme.com/events/audit',
      ok: true,
      result: { output: { seen: { order: 7 } }, charge: { amount: '3' } },
    })
    const forbidden = await errorOf(
      await post(`${g.url}/v1/dispatch`, { kind: 'order.created', event: {} }, { token: g.callOnly }),
    )
    expect([forbidden.status, forbidden.code, forbidden.shortMessage]).toEqual([
      403,
      'E_FORBIDDEN',
      'The token of reader may not dispatch',
    ])
  })

  it('sums usage by provider and function, amounts as exact decimal strings', async () => {
    const body = (await (await fetch(`${g.url}/v1/usage?by=function`)).json()) as {
      rows: { key: string; amount: string; currency: string; calls: number }[]
    }
    const upper = body.rows.find((r) => r.key === 'acme.com/text/upper')!
    expect(upper.currency).toBe('USDC')
    expect(BigInt(upper.amount)).toBe(BigInt(upper.calls) * 10n)
    const bad = await errorOf(await fetch(`${g.url}/v1/usage?since=yesterday`))
    expect([bad.status, bad.code]).toEqual([400, 'E_REQUEST_INVALID'])
  })

  it('lists recent calls, newest first, with lineage status and charge', async () => {
    const body = (await (await fetch(`${g.url}/v1/calls?limit=3`)).json()) as {
      calls: { name: string; lineage: string; at: number }[]
    }
    expect(body.calls.length).toBe(3)
    expect(body.calls[0]!.at).toBeGreaterThanOrEqual(body.calls[2]!.at)
    expect(body.calls.map((c) => c.lineage)).toContain('completed')
  })

  it('error: bad requests are refused with a clear MeshError and nothing in the ledger', async () => {
    const before = await g.mesh.lineage.verify()
    const cases: [Promise<Response>, number, string][] = [
      [
        post(`${g.url}/v1/call`, undefined, {
          token: g.token,
          raw: '{"name": "acme.com/text/upper", "input": ',
        }),
        400,
        'E_BODY_MALFORMED',
      ],
      [post(`${g.url}/v1/call`, undefined, { token: g.token, raw: '' }), 400, 'E_BODY_MALFORMED'],
      [
        post(
          `${g.url}/v1/call`,
          { name: 'acme.com/text/upper', input: { text: 'x'.repeat(1024 * 1024 + 1) } },
          { token: g.token },
        ),
        413,
        'E_BODY_TOO_LARGE',
      ],
      [
        post(
          `${g.url}/v1/call`,
          { name: 'acme.com/text/upper', input: {} },
          { token: g.token, headers: { 'content-type': 'text/plain' } },
        ),
        415,
        'E_UNSUPPORTED_MEDIA_TYPE',
      ],
      [post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: {} }), 401, 'E_UNAUTHORIZED'],
      [
        post(
          `${g.url}/v1/call`,
          { name: 'acme.com/text/upper', input: {} },
          { token: 'fmt_not-a-token-this-gateway-knows' },
        ),
        401,
        'E_UNAUTHORIZED',
      ],
      [
        post(
          `${g.url}/v1/call`,
          { name: 'acme.com/text/upper', input: {} },
          { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
        ),
        401,
        'E_UNAUTHORIZED',
      ],
      [call({ name: 'acme.com/text/upper' }), 400, 'E_REQUEST_INVALID'],
      [call({ name: 'acme.com/text/upper', input: {}, timeoutMs: -1 }), 400, 'E_REQUEST_INVALID'],
      [call({ name: 'acme.com/text/upper', input: {}, extra: 1 }), 400, 'E_REQUEST_INVALID'],
      [call([1, 2, 3]), 400, 'E_REQUEST_INVALID'],
      [call({ name: 'acme.com/text/upper', input: { text: 42 } }), 422, 'E_INPUT_INVALID'],
      [call({ name: 'acme.com/nope/none', input: {} }), 404, 'E_FUNCTION_NOT_FOUND'],
    ]
    for (const [response, status, code] of cases) {
      const err = await errorOf(await response)
      expect([err.status, err.code], err.message).toEqual([status, code])
    }
    const after = await g.mesh.lineage.verify()
    expect(after.entries).toBe(before.entries)
    expect(after.charges).toBe(before.charges)
  })

  it('error: an oversize body sent without a length (chunked) is refused as it streams in', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await fetch(`${g.url}/v1/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${g.token}` },
      body,
      duplex: 'half',
    } as RequestInit)
    const err = await errorOf(res)
    expect([err.status, err.code]).toEqual([413, 'E_BODY_TOO_LARGE'])
  })

  it('error: the same limits hold for requests handed to the service directly (fetch, no Node server)', async () => {
    const service = g.gateway.service!
    const request = (body: string, type = 'application/json') =>
      service.fetch(
        new Request('http://gateway.local/v1/call', {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${g.token}` },
          body,
        }),
      )
    const big = await errorOf(
      await request(JSON.stringify({ name: 'acme.com/text/upper', input: 'x'.repeat(1024 * 1024) })),
    )
    expect([big.status, big.code]).toEqual([413, 'E_BODY_TOO_LARGE'])
    const malformed = await errorOf(await request('{'))
    expect([malformed.status, malformed.code]).toEqual([400, 'E_BODY_MALFORMED'])
    const ok = await request(JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'direct' } }))
    expect(((await ok.json()) as { output: unknown }).output).toEqual({ text: 'DIRECT' })
  })

  it('error: a missing token is answered with WWW-Authenticate, and no configured token refuses every call', async () => {
    const res = await post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: {} })
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    const h = await startGateway({ tokens: [] })
    try {
      const err = await errorOf(
        await post(
          `${h.url}/v1/call`,
          { name: 'acme.com/text/upper', input: {} },
          { token: 'fmt_anything-at-all-here' },
        ),
      )
      expect([err.status, err.code, err.hint]).toEqual([
        401,
        'E_UNAUTHORIZED',
        expect.stringContaining('fmesh gateway token'),
      ])
    } finally {
      await h.close()
    }
  })

  it('error: a principal over its rate limit gets 429 with Retry-After, and other principals do not', async () => {
    const h = await startGateway({ rateLimit: { perSecond: 0.001, burst: 2 } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++)
        statuses.push(
          (
            await post(
              `${h.url}/v1/call`,
              { name: 'acme.com/text/upper', input: { text: 'a' } },
              { token: h.token },
            )
          ).status,
        )
      expect(statuses).toEqual([200, 200, 429])
      const limited = await post(
        `${h.url}/v1/call`,
        { name: 'acme.com/text/upper', input: { text: 'a' } },
        { token: h.token },
      )
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      const err = await errorOf(limited)
      expect([err.code, err.shortMessage]).toEqual([
        'E_RATE_LIMITED',
        'app is over its rate limit of 0.001 requests a second',
      ])
      const other = await post(
        `${h.url}/v1/call`,
        { name: 'acme.com/text/upper', input: { text: 'a' } },
        { token: h.callOnly },
      )
      expect(other.status).toBe(200)
    } finally {
      await h.close()
    }
  })
})
