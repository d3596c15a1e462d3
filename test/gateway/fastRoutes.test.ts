import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleDraft } from '../_helpers/records.js'
import { type GatewayFixture, post, startGateway } from './_gateway.js'

// The hot routes (GET /v1/resolve?name=..., POST /v1/call) are answered on node:http before hono
// (gateway/_fastRoutes.ts). Over real HTTP they must answer exactly what hono answers for the same
// request (gateway.service.fetch goes through hono alone), hand anything they do not read exactly as
// hono would to hono, and serve a cached resolve answer only while the record behind it is current.

let g: GatewayFixture
beforeAll(async () => {
  g = await startGateway()
  await g.mesh.publish(sampleDraft(), { signer: g.signer })
})
afterAll(() => g.close())

/** The same request over HTTP (the Node path) and through hono alone. */
async function both(path: string, init: RequestInit = {}) {
  const viaNode = await fetch(`${g.url}${path}`, init)
  const viaHono = await g.gateway.service!.fetch(new Request(`${g.url}${path}`, init))
  return [await answerOf(viaNode), await answerOf(viaHono)] as const
}

async function answerOf(res: Response) {
  const body = await res.text()
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'www-authenticate', 'retry-after', 'idempotency-replayed'])
    if (res.headers.has(name)) headers[name] = res.headers.get(name)!
  return { status: res.status, headers, body }
}

const resolveBody = async (name: string) =>
  (await (await fetch(`${g.url}/v1/resolve?name=${name}`)).json()) as {
    version: string
    recordId: string
    source: { kind: string }
  }

const authed = (
  token: string,
  type = 'application/json',
): Omit<RequestInit, 'headers'> & { headers: Record<string, string> } => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': type },
})

describe('gateway: the node:http fast path for resolve and call', () => {
  it('resolve answers the bytes hono answers, for a local function and a registry record', async () => {
    for (const name of ['acme.com/text/upper', 'acme.com/image/sharpen']) {
      await fetch(`${g.url}/v1/resolve?name=${name}`)
      const [node, hono] = await both(`/v1/resolve?name=${name}`)
      expect(node.status).toBe(200)
      expect(node).toEqual(hono)
    }
  })

  it('resolve errors answer as hono does: unknown name, bad name, bad query', async () => {
    for (const path of [
      '/v1/resolve?name=acme.com/nope/none',
      '/v1/resolve?name=',
      '/v1/resolve?name=Not A Name',
      `/v1/resolve?name=acme.com/${'x'.repeat(700)}`,
      '/v1/resolve?name=acme.com/text/upper&bogus=1',
    ]) {
      // The first miss asks the registries; later ones answer from the cache: compare those.
      await fetch(`${g.url}${path}`)
      const [node, hono] = await both(path)
      expect(node.status).toBeGreaterThanOrEqual(400)
      expect(node).toEqual(hono)
    }
  })

  it('resolve requests the Node path does not read go to hono and answer the same record', async () => {
    const plain = await resolveBody('acme.com/text/upper')
    for (const query of [
      'acme.com%2Ftext%2Fupper',
      'acme.com/text/upper&cache=use',
      'acme.com/text/upper%401',
    ]) {
      const body = await resolveBody(query)
      expect([body.version, body.recordId]).toEqual([plain.version, plain.recordId])
    }
    const head = await fetch(`${g.url}/v1/resolve?name=acme.com/text/upper`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  it('a cached resolve answer gives way to a newer record, a yank and a new local version', async () => {
    const name = 'acme.com/image/lint'
    await g.mesh.publish(sampleDraft(name), { signer: g.signer })
    await resolveBody(name)
    const first = await resolveBody(name)
    expect([first.version, first.source.kind]).toEqual(['1.4.1', 'cache'])
    expect(await resolveBody(name)).toEqual(first)

    const draft = sampleDraft(name)
    draft.versions['1.5.0'] = { ...draft.versions['1.4.1']!, yanked: false }
    await g.mesh.publish({ ...draft, latestVersion: '1.5.0' }, { signer: g.signer })
    const newer = await resolveBody(name)
    expect(newer.version).toBe('1.5.0')
    expect(newer.recordId).not.toBe(first.recordId)

    draft.versions['1.5.0'] = { ...draft.versions['1.5.0']!, yanked: true }
    await g.mesh.publish({ ...draft, latestVersion: '1.4.1' }, { signer: g.signer })
    const yanked = await resolveBody(name)
    expect(yanked.version).toBe('1.4.1')
    expect(yanked.recordId).not.toBe(newer.recordId)

    expect((await resolveBody('acme.com/text/upper')).version).toBe('1.0.0')
    const off = g.mesh.marketplace.register({ name: 'acme.com/text/upper', version: '1.1.0' }, () => ({}))
    expect((await resolveBody('acme.com/text/upper')).version).toBe('1.1.0')
    off()
    expect((await resolveBody('acme.com/text/upper')).version).toBe('1.0.0')
  })

  it('call refusals answer as hono does, and none reaches the ledger', async () => {
    const before = (await g.mesh.lineage.verify()).entries
    const good = JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'x' } })
    const refusals: [RequestInit, number][] = [
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: good }, 401],
      [{ ...authed('wrong-token-wrong-token'), body: good }, 401],
      [{ ...authed(g.token, 'text/plain'), body: good }, 415],
      [{ ...authed(g.token), body: '{"name": ' }, 400],
      [{ ...authed(g.token), body: '  ' }, 400],
      [{ ...authed(g.token), body: JSON.stringify({ name: 'acme.com/text/upper' }) }, 400],
      [{ ...authed(g.token), body: JSON.stringify({ name: 'acme.com/text/upper', input: {}, x: 1 }) }, 400],
      [{ ...authed(g.token), body: 'x'.repeat(1024 * 1024 + 1) }, 413],
    ]
    for (const [init, status] of refusals) {
      const [node, hono] = await both('/v1/call', init)
      expect(node.status).toBe(status)
      expect(node).toEqual(hono)
    }
    expect((await g.mesh.lineage.verify()).entries).toBe(before)
  })

  it('call with an Idempotency-Key runs once over either path; the replay says so in a header', async () => {
    const body = JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'once' } })
    const init = { ...authed(g.token), body }
    init.headers = { ...init.headers, 'idempotency-key': 'node-path-1' }
    const [first, replay] = await both('/v1/call', init)
    expect([first.status, replay.status]).toEqual([200, 200])
    expect(first.headers['idempotency-replayed']).toBeUndefined()
    expect(replay.headers['idempotency-replayed']).toBe('true')
    expect(JSON.parse(replay.body).invocationId).toBe(JSON.parse(first.body).invocationId)
    const again = await post(`${g.url}/v1/call`, JSON.parse(body), {
      token: g.token,
      headers: { 'idempotency-key': 'node-path-1' },
    })
    expect(again.headers.get('idempotency-replayed')).toBe('true')
  })

  it('a call with a query string goes to hono and is answered', async () => {
    const res = await post(
      `${g.url}/v1/call?x=1`,
      { name: 'acme.com/text/upper', input: { text: 'q' } },
      { token: g.token },
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as { output: unknown }).output).toEqual({ text: 'Q' })
  })

  it('requests answered on the Node path are counted in /metrics by route and status', async () => {
    const count = async (route: string, status: number) => {
      const text = await (await fetch(`${g.url}/metrics`)).text()
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('fmesh_gateway_requests_total{') &&
            l.includes(`route="${route}"`) &&
            l.includes(`status="${status}"`),
        )
      return line === undefined ? 0 : Number(line.split(' ').pop())
    }
    const resolved = await count('/v1/resolve', 200)
    const refused = await count('/v1/call', 401)
    await fetch(`${g.url}/v1/resolve?name=acme.com/text/upper`)
    await post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: {} })
    expect(await count('/v1/resolve', 200)).toBe(resolved + 1)
    expect(await count('/v1/call', 401)).toBe(refused + 1)
  })
})
