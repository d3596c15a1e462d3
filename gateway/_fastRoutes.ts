import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { MeshClosedError } from '../src/errors/mesh.js'
import { parseJsonBody, readIncoming, requireJson } from './_body.js'
import { callAnswer } from './_callRoutes.js'
import { resolveAnswer } from './_functionRoutes.js'
import { errorResponse } from './_json.js'
import { invalid } from './_requestErrors.js'
import type { GatewayContext, RouteSpec } from './_route.js'

const JSON_TYPE = 'application/json; charset=utf-8'
/** A query hono and this path read alike: one `name`, nothing to decode. */
const PLAIN_NAME_QUERY = /^name=([^&=%+#]*)$/

/**
 * The two hot routes, `GET /v1/resolve?name=...` and `POST /v1/call`, answered on node:http straight
 * from the `IncomingMessage`, and every other request handed to hono (`fallback`).
 *
 * Why: for these routes the web `Request` and `Response` objects, hono's context and middleware chain
 * and the adaptor's response copying cost more than the route's own work. The checks are the same
 * ones, in the same order, with the same code (token and scope, rate limit, content type, body size,
 * JSON, schema, then the mesh), and errors answer through the same `errorResponse`. A request this
 * path does not read exactly as hono would (HEAD, an encoded or extra query parameter, a query on the
 * call route) goes to hono.
 */
export function fastRoutes(
  gw: GatewayContext,
  routes: readonly RouteSpec[],
  fallback: RequestListener,
): RequestListener {
  const resolveRoute = fastRoute(gw, routes.find((r) => r.operationId === 'resolve')!)
  const callRoute = fastRoute(gw, routes.find((r) => r.operationId === 'call')!)
  return (req, res) => {
    const url = req.url ?? ''
    if (req.method === 'GET' && url.startsWith('/v1/resolve?')) {
      const plain = PLAIN_NAME_QUERY.exec(url.slice(12))
      if (plain !== null) return void resolve(resolveRoute, plain[1]!, res)
    } else if (req.method === 'POST' && url === '/v1/call') {
      return void call(callRoute, req, res)
    }
    fallback(req, res)
  }
}

/** One hot route and what its requests share, made once. */
interface FastRoute {
  readonly gw: GatewayContext
  readonly spec: RouteSpec
  /** Counts an answered request by status (`fmesh_gateway_requests_total`). */
  readonly count: (status: number) => void
}

function fastRoute(gw: GatewayContext, spec: RouteSpec): FastRoute {
  return { gw, spec, count: gw.metrics.requestCounter(spec.path, spec.method) }
}

// Each route is one async function from the request to the written answer: its checks, the mesh's
// work and the answer, with no promise or closure per step. It never rejects (see `failed`).

async function resolve(route: FastRoute, name: string, res: ServerResponse): Promise<void> {
  try {
    let status = 200
    try {
      const parsed = route.spec.query!.safeParse({ name })
      if (!parsed.success) throw invalid('query', parsed.error.issues[0]!)
      writeJson(res, resolveAnswer(await route.gw.mesh.resolve((parsed.data as { name: string }).name)))
    } catch (err) {
      status = await writeError(route, res, err)
    }
    route.count(status)
  } catch (err) {
    failed(route.gw, res, err)
  }
}

async function call(route: FastRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    let status = 200
    try {
      const { gw, spec } = route
      if (!gw.running()) throw new MeshClosedError(`${spec.method} ${spec.path}`)
      const principal = gw.tokens.require(req.headers.authorization, spec.scope!)
      gw.limiter.take(principal.principal)
      requireJson(req.headers['content-type'])
      const value = parseJsonBody(await readIncoming(req, gw.maxBodyBytes))
      const parsed = spec.body!.safeParse(value)
      if (!parsed.success) throw invalid('body', parsed.error.issues[0]!)
      const sent = { idempotencyKey: header(req, 'idempotency-key'), traceparent: header(req, 'traceparent') }
      // As on the hono route: an admin caller (the CLI on its node) cancels its call by closing the request.
      const signal = principal.scopes.has('admin') ? closedSignal(res) : undefined
      const answer = await callAnswer(gw, parsed.data as never, principal, sent, signal)
      writeJson(res, answer.text, answer.headers)
    } catch (err) {
      status = await writeError(route, res, err)
    }
    route.count(status)
  } catch (err) {
    failed(route.gw, res, err)
  }
}

/** Answering itself failed (nothing a request can cause): the connection is cut rather than left open. */
function failed(gw: GatewayContext, res: ServerResponse, err: unknown): void {
  gw.log.error('answering a request failed: %o', err)
  res.destroy()
}

/** Aborts when the client goes away before its answer was written. */
function closedSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client closed the request'))
  })
  return controller.signal
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** A 200 JSON answer; the headers as a flat list, which node:http writes without copying them. */
function writeJson(res: ServerResponse, text: string, extra?: Readonly<Record<string, string>>): void {
  const headers: (string | number)[] = ['content-type', JSON_TYPE, 'content-length', Buffer.byteLength(text)]
  if (extra !== undefined) for (const name in extra) headers.push(name, extra[name]!)
  res.writeHead(200, headers as string[])
  res.end(text)
}

/** The error answer (the same `errorResponse` hono answers with); returns its status. */
async function writeError(route: FastRoute, res: ServerResponse, err: unknown): Promise<number> {
  const response = errorResponse(err)
  const status = response.status
  if (status >= 500) route.gw.log.error('%s %s: %o', route.spec.method, route.spec.path, err)
  const text = await response.text()
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(text) }
  response.headers.forEach((value, key) => {
    headers[key] = value
  })
  if (!res.headersSent) {
    res.writeHead(status, headers)
    res.end(text)
  }
  return status
}
