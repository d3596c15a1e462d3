import { systemClock } from '../clock.js'
import { ProviderFailedError, ProviderResponseError, ProviderUnreachableError } from '../errors/invoke.js'
import type { Transport, TransportRequest, TransportResponse } from './types.js'

/** Largest response body the HTTP transport reads by default. @default 1048576 (1 MiB) */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

/** Options of {@link httpTransport}. */
export interface HttpTransportInit {
  /** Extra headers sent with every request (an API key, a user agent). */
  headers?: Readonly<Record<string, string>>
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

/** Network errors that mean the request never left this machine or never reached a server. */
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
])

/**
 * JSON over HTTP(S). The input's canonical JSON is POSTed to the endpoint with these headers:
 * `traceparent` (W3C), `idempotency-key` (when the call has one), `fmesh-invocation`,
 * `fmesh-attempt`, `fmesh-function` (`name@version`), and when there is a deadline `fmesh-deadline`
 * (epoch ms) and `fmesh-timeout-ms` (time left). A 2xx answer's body is the output (JSON, at most
 * `maxResponseBytes`); an optional `fmesh-quantity` header reports units of work to bill. 408, 429
 * and 5xx count as retryable failures, other statuses as refusals.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ transports: [httpTransport({ headers: { 'user-agent': 'acme-app/1.0' } })] })
 * ```
 */
export function httpTransport(init: HttpTransportInit = {}): Transport {
  const doFetch = init.fetch ?? globalThis.fetch
  const extra = init.headers ?? {}
  return {
    name: 'http',
    handles: (endpoint) => endpoint.startsWith('http://') || endpoint.startsWith('https://'),
    call: (request) => callHttp(doFetch, extra, request),
  }
}

async function callHttp(
  doFetch: typeof fetch,
  extra: Readonly<Record<string, string>>,
  request: TransportRequest,
): Promise<TransportResponse> {
  const { provider, signal } = request
  const { id, endpoint } = provider
  const headers: Record<string, string> = {
    ...extra,
    'content-type': 'application/json',
    accept: 'application/json',
    traceparent: request.traceparent,
    'fmesh-invocation': request.invocationId,
    'fmesh-attempt': String(request.attempt),
    'fmesh-function': `${request.name}@${request.version}`,
  }
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey
  if (request.deadline !== undefined) {
    headers['fmesh-deadline'] = String(request.deadline)
    const now = (request.clock ?? systemClock).now()
    headers['fmesh-timeout-ms'] = String(Math.max(0, request.deadline - now))
  }
  let response: Response
  try {
    response = await doFetch(endpoint, {
      method: 'POST',
      headers,
      body: request.inputBytes,
      signal,
      redirect: 'error',
    })
  } catch (err) {
    if (signal.aborted) throw err
    const code = networkCode(err)
    if (code !== undefined && NOT_DELIVERED.has(code))
      throw new ProviderUnreachableError(id, endpoint, code, err)
    throw new ProviderFailedError(
      id,
      endpoint,
      `network error (${code ?? (err as Error).message})`,
      { retryable: true },
      err,
    )
  }
  if (!response.ok) {
    const text = await readLimited(response, 2048, signal).then(
      (bytes) => new TextDecoder().decode(bytes),
      () => '',
    )
    const status = response.status
    const retryable = status === 408 || status === 429 || status >= 500
    throw new ProviderFailedError(id, endpoint, `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, {
      retryable,
      status,
    })
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > request.maxResponseBytes) {
    await response.body?.cancel().catch(() => {})
    throw new ProviderResponseError(
      id,
      endpoint,
      `the body is ${declared} bytes, over the ${request.maxResponseBytes} byte limit`,
      {
        limit: request.maxResponseBytes,
      },
    )
  }
  let bytes: Uint8Array
  try {
    bytes = await readLimited(response, request.maxResponseBytes, signal)
  } catch (err) {
    if (signal.aborted) throw err
    if (err instanceof TooLarge)
      throw new ProviderResponseError(
        id,
        endpoint,
        `the body is over the ${request.maxResponseBytes} byte limit`,
        {
          limit: request.maxResponseBytes,
        },
      )
    throw new ProviderFailedError(
      id,
      endpoint,
      `reading the response failed: ${(err as Error).message}`,
      { retryable: true },
      err,
    )
  }
  let output: unknown
  try {
    output = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new ProviderResponseError(id, endpoint, 'the body is not UTF-8 JSON', {}, err)
  }
  const q = response.headers.get('fmesh-quantity')
  if (q === null) return { output }
  if (!/^(0|[1-9][0-9]{0,30})$/.test(q))
    throw new ProviderResponseError(id, endpoint, 'the fmesh-quantity header is not a non-negative integer', {
      quantity: q.slice(0, 64),
    })
  return { output, quantity: BigInt(q) }
}

class TooLarge extends Error {}

/** Reads a body, stopping (and cancelling the stream) as soon as it passes `limit` bytes. */
async function readLimited(response: Response, limit: number, signal: AbortSignal): Promise<Uint8Array> {
  const body = response.body
  if (body === null) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) throw new TooLarge()
      chunks.push(value)
    }
  } catch (err) {
    await reader.cancel().catch(() => {})
    throw err
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}

function networkCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e !== null && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    const errors = (e as { errors?: unknown }).errors
    if (Array.isArray(errors) && errors.length > 0) e = errors[0]
    else e = (e as { cause?: unknown }).cause
  }
  return undefined
}
