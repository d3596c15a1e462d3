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
  const resolveSpec = routes.find((r) => r.operationId === 'resolve')!
  const callSpec = routes.find((r) => r.operationId === 'call')!
  return (req, res) => {
    const url = req.url ?? ''
    if (req.method === 'GET' && url.startsWith('/v1/resolve?')) {
      const plain = PLAIN_NAME_QUERY.exec(url.slice(12))
      if (plain !== null)
        return answered(gw, res, answer(gw, resolveSpec, res, resolve(gw, resolveSpec, plain[1]!)))
    } else if (req.method === 'POST' && url === '/v1/call') {
      return answered(gw, res, answer(gw, callSpec, res, call(gw, callSpec, req, res)))
    }
    fallback(req, res)
  }
}

/** Answering itself failed (nothing a request can cause): the connection is cut rather than left open. */
function answered(gw: GatewayContext, res: ServerResponse, done: Promise<void>): void {
  done.catch((err: unknown) => {
    gw.log.error('answering a request failed: %o', err)
    res.destroy()
  })
}

async function resolve(gw: GatewayContext, spec: RouteSpec, name: string): Promise<string> {
  const parsed = spec.query!.safeParse({ name })
  if (!parsed.success) throw invalid('query', parsed.error.issues[0]!)
  return resolveAnswer(await gw.mesh.resolve((parsed.data as { name: string }).name))
}

async function call(
  gw: GatewayContext,
  spec: RouteSpec,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ text: string; headers: Record<string, string> | undefined }> {
  if (!gw.running()) throw new MeshClosedError(`${spec.method} ${spec.path}`)
  const principal = gw.tokens.require(req.headers.authorization, spec.scope!)
  gw.limiter.take(principal.principal)
  requireJson(req.headers['content-type'])
  const value = parseJsonBody(await readIncoming(req, gw.maxBodyBytes))
  const parsed = spec.body!.safeParse(value)
  if (!parsed.success) throw invalid('body', parsed.error.issues[0]!)
  // As on the hono route: an admin caller (the CLI on its node) cancels its call by closing the request.
  const signal = principal.scopes.has('admin') ? closedSignal(res) : undefined
  return callAnswer(gw, parsed.data as never, principal, (name) => header(req, name), signal)
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

async function answer(
  gw: GatewayContext,
  spec: RouteSpec,
  res: ServerResponse,
  work: Promise<string | { text: string; headers: Record<string, string> | undefined }>,
): Promise<void> {
  let status = 200
  try {
    const done = await work
    const text = typeof done === 'string' ? done : done.text
    const extra = typeof done === 'string' ? undefined : done.headers
    const headers: Record<string, string | number> = {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(text),
    }
    if (extra !== undefined) Object.assign(headers, extra)
    res.writeHead(200, headers)
    res.end(text)
  } catch (err) {
    const response = errorResponse(err)
    status = response.status
    if (status >= 500) gw.log.error('%s %s: %o', spec.method, spec.path, err)
    const text = await response.text()
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(text) }
    response.headers.forEach((value, key) => {
      headers[key] = value
    })
    if (!res.headersSent) {
      res.writeHead(status, headers)
      res.end(text)
    }
  }
  gw.metrics.countRequest(spec.path, spec.method, status)
}
