import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { MeshClosedError } from '../src/errors/mesh.js'
import type { Principal } from './_auth.js'
import { parseJsonBody, readBody, requireJson } from './_body.js'
import { errorResponse } from './_json.js'
import { invalid } from './_requestErrors.js'
import type { GatewayContext, RouteSpec } from './_route.js'
import { BodyTooLargeError, MethodNotAllowedError, RouteNotFoundError } from './errors.js'

type Env = { Variables: { principal: Principal | undefined } }

/** Routes matched by path shape, to tell 405 from 404. */
function pathMatcher(path: string): RegExp {
  return new RegExp(
    `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}|\{\w+\}/g, '[^/]+')}/?$`,
  )
}

/**
 * The gateway's hono app, one handler per row of the route table. Mutating routes run, in order:
 * token and scope (401/403), the principal's rate limit (429), the content type (415), the body size
 * (hono's bodyLimit, 413), JSON parsing (400), the body schema (400), and only then the mesh, so a
 * refused request leaves nothing in the ledger.
 */
export function buildApp(gw: GatewayContext, routes: readonly RouteSpec[]): Hono<Env> {
  const app = new Hono<Env>()
  const shapes = routes.map((r) => ({ method: r.method, match: pathMatcher(r.path) }))
  const limit = bodyLimit({
    maxSize: gw.maxBodyBytes,
    onError: () => errorResponse(new BodyTooLargeError(gw.maxBodyBytes)),
  })
  for (const spec of routes) {
    const path = spec.path.replace(/\{(\w+)\}/g, ':$1')
    const metrics = gw.metrics
    const label = spec.path
    const handler = async (c: Context<Env>) => {
      const response = await run(c, spec, gw)
      metrics.countRequest(label, spec.method, response.status)
      return response
    }
    if (spec.method === 'POST') {
      app.post(
        path,
        async (c, next) => {
          if (!gw.running()) throw new MeshClosedError(`${spec.method} ${spec.path}`)
          const principal = gw.tokens.require(c.req.header('authorization'), spec.scope!)
          gw.limiter.take(principal.principal)
          c.set('principal', principal)
          requireJson(c.req.header('content-type'))
          await next()
        },
        // The Node server's requests are limited as their body is read (readBody); others here.
        (c, next) => (nodeRequest(c) ? next() : limit(c, next)),
        handler,
      )
    } else {
      app.get(path, handler)
    }
  }
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname
    const allow = shapes.filter((s) => s.match.test(path)).map((s) => s.method)
    const err =
      allow.length > 0
        ? new MethodNotAllowedError(c.req.method, path, [
            ...new Set([...allow, ...(allow.includes('GET') ? ['HEAD'] : [])]),
          ])
        : new RouteNotFoundError(c.req.method, path)
    gw.metrics.countRequest('unmatched', c.req.method, err instanceof MethodNotAllowedError ? 405 : 404)
    return errorResponse(err)
  })
  app.onError((err, c) => {
    const response = errorResponse(err)
    if (response.status >= 500) gw.log.error('%s %s: %o', c.req.method, c.req.path, err)
    gw.metrics.countRequest(c.req.routePath || 'unmatched', c.req.method, response.status)
    return response
  })
  return app
}

function nodeRequest(c: Context<Env>): boolean {
  return (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined
}

async function run(c: Context<Env>, spec: RouteSpec, gw: GatewayContext): Promise<Response> {
  let principal = c.get('principal')
  if (spec.optionalAuth === true) {
    principal = gw.tokens.identify(c.req.header('authorization'))
    if (principal !== undefined) gw.limiter.take(principal.principal)
  }
  let query: unknown = {}
  if (spec.query !== undefined) {
    const parsed = spec.query.safeParse(c.req.query())
    if (!parsed.success) throw invalid('query', parsed.error.issues[0]!)
    query = parsed.data
  }
  let body: unknown
  if (spec.body !== undefined) {
    const value = parseJsonBody(await readBody(c, gw.maxBodyBytes))
    const parsed = spec.body.safeParse(value)
    if (!parsed.success) throw invalid('body', parsed.error.issues[0]!)
    body = parsed.data
  }
  return spec.handle({
    c,
    gw,
    query: query as never,
    body: body as never,
    params: c.req.param() as Record<string, string>,
    principal,
    header: (name) => c.req.header(name),
  })
}
