// Hostile input over HTTP: request bodies of the gateway's POST routes (gateway/_body.ts and the
// routes' schemas), sent to a real gateway on 127.0.0.1. Every answer is JSON with a stable error
// code (or a result); no hostile body gets a 5xx (E_INTERNAL); a body over the limit is refused
// (413) whether its length is declared or it arrives chunked; the gateway keeps serving.
import { request } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GatewayFixture, startGateway } from '../gateway/_gateway.js'
import { GATEWAY_BODY_CODES } from './_codes.js'
import { fuzzParams, hostileBytes } from './_fuzz.js'

const MAX_BODY = 16 * 1024

/** A POST with raw bytes; `chunked` leaves out content-length. */
function send(url: string, token: string, body: Uint8Array, init: { type?: string; chunked?: boolean } = {}) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': init.type ?? 'application/json',
        ...(init.chunked
          ? { 'transfer-encoding': 'chunked' }
          : { 'content-length': String(body.byteLength) }),
      },
      signal: AbortSignal.timeout(20_000),
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
        } catch (err) {
          reject(err)
        }
      })
    })
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (err) => reject(err))
    if (init.chunked) {
      for (let at = 0; at < body.byteLength; at += 4096) req.write(body.subarray(at, at + 4096))
      req.end()
    } else req.end(body)
  })
}

describe('fuzz: gateway request bodies', () => {
  let g: GatewayFixture
  beforeAll(async () => {
    g = await startGateway({ maxBodyBytes: MAX_BODY, rateLimit: { perSecond: 100_000, burst: 100_000 } })
  })
  afterAll(async () => {
    await g?.close()
  })

  const enc = new TextEncoder()
  const body = fc.oneof(
    hostileBytes(),
    fc
      .record(
        {
          name: fc.oneof(fc.constant('acme.com/text/upper'), fc.string({ maxLength: 80 }), fc.jsonValue()),
          input: fc.oneof(fc.record({ text: fc.string() }), fc.jsonValue()),
          options: fc.oneof(
            fc.record(
              {
                timeoutMs: fc.oneof(fc.integer(), fc.double()),
                idempotencyKey: fc.string(),
                maxCost: fc.jsonValue(),
              },
              { requiredKeys: [] },
            ),
            fc.jsonValue(),
          ),
          kind: fc.string({ maxLength: 20 }),
          event: fc.jsonValue(),
          version: fc.string({ maxLength: 20 }),
        },
        { requiredKeys: [] },
      )
      .map((v) => enc.encode(JSON.stringify(v))),
  )

  it('POST /v1/call and /v1/dispatch (the POST routes): hostile bodies get a JSON answer with an expected code, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/call', '/v1/dispatch'),
        body,
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', ''),
        async (route, bytes, type) => {
          const { status, json } = await send(`${g.url}${route}`, g.token, bytes, { type })
          if (status < 300) return
          expect(status, JSON.stringify(json)).toBeLessThan(500)
          expect(GATEWAY_BODY_CODES as readonly unknown[], JSON.stringify(json)).toContain(json.code)
        },
      ),
      fuzzParams(120),
    )
  })

  it('a body over maxBodyBytes is refused with 413 E_BODY_TOO_LARGE, declared or chunked; the gateway keeps serving', async () => {
    const big = new Uint8Array(MAX_BODY * 8).fill(0x20)
    const declared = await send(`${g.url}/v1/call`, g.token, big).catch((err: Error) => ({
      status: -1,
      json: { code: err.message },
    }))
    expect(declared).toMatchObject({ status: 413, json: { code: 'E_BODY_TOO_LARGE' } })
    const chunked = await send(`${g.url}/v1/call`, g.token, big, { chunked: true }).catch((err: Error) => ({
      status: -1,
      json: { code: err.message },
    }))
    // The answer may race the rest of the upload (then the socket is reset after the 413 went out).
    if (chunked.status !== -1)
      expect(chunked).toMatchObject({ status: 413, json: { code: 'E_BODY_TOO_LARGE' } })
    const ok = await send(
      `${g.url}/v1/call`,
      g.token,
      enc.encode(JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'a' } })),
    )
    expect(ok.status).toBe(200)
  })
})
