import { MeshError } from '../src/errors/base.js'

// The gateway's own conditions: what was wrong with an HTTP request, before the mesh saw it. Every
// one is answered as its `toJSON()` with the status from `statusOf` (gateway/status.ts).

/** No route matches the request's path. */
export class RouteNotFoundError extends MeshError {
  override name = 'RouteNotFoundError'
  constructor(method: string, path: string) {
    super('E_ROUTE_NOT_FOUND', `No route ${method} ${truncate(path)}`, {
      details: { method, path: truncate(path) },
      hint: 'GET /openapi.json lists every route of this gateway; API routes start with /v1.',
    })
  }
}

/** The path exists, but not with this method. */
export class MethodNotAllowedError extends MeshError {
  override name = 'MethodNotAllowedError'
  readonly allow: readonly string[]
  constructor(method: string, path: string, allow: readonly string[]) {
    super('E_METHOD_NOT_ALLOWED', `${method} is not allowed on ${truncate(path)}`, {
      details: { method, path: truncate(path), allow: allow.join(', ') },
      hint: `Use ${allow.join(' or ')}; GET /openapi.json documents each route.`,
    })
    this.allow = allow
  }
}

/** A mutating route was asked without a usable bearer token. */
export class UnauthorizedError extends MeshError {
  override name = 'UnauthorizedError'
  constructor(reason: 'missing' | 'malformed' | 'unknown' | 'none-configured') {
    const short = {
      missing: 'This route needs a bearer token and the request has none',
      malformed: 'The Authorization header is not "Bearer <token>"',
      unknown: 'The bearer token is not one this gateway knows',
      'none-configured': 'This gateway has no tokens configured, so it accepts no calls',
    }[reason]
    super('E_UNAUTHORIZED', short, {
      details: { reason },
      hint:
        reason === 'none-configured'
          ? 'Start the gateway with tokens: httpGateway({ tokens: [{ tokenHash, principal }] }) or `fmesh gateway --tokens FILE`; `fmesh gateway token` makes one.'
          : 'Send "Authorization: Bearer <token>" with a token from `fmesh gateway token` whose hash the gateway is configured with.',
    })
  }
}

/** The token is valid but may not use this route. */
export class ForbiddenError extends MeshError {
  override name = 'ForbiddenError'
  constructor(principal: string, scope: string) {
    super('E_FORBIDDEN', `The token of ${principal} may not ${scope}`, {
      details: { principal, scope },
      hint: `Give the token the "${scope}" scope (tokens: [{ ..., scopes: ['call', 'dispatch'] }]) or use another token.`,
    })
  }
}

/** A request that carries a private key came from another machine: it is refused before it is read. */
export class KeyOverNetworkError extends MeshError {
  override name = 'KeyOverNetworkError'
  constructor(remoteAddress: string | undefined) {
    super(
      'E_KEY_OVER_NETWORK',
      `POST /v1/publish carries a private key and came from ${remoteAddress ?? 'an unknown address'}, not loopback`,
      {
        details: { remoteAddress: remoteAddress ?? null },
        hint: 'Publish from the machine the node runs on (fmesh publish on its data dir), or sign and publish with your own mesh.',
      },
    )
  }
}

/** The request body is larger than the gateway accepts. */
export class BodyTooLargeError extends MeshError {
  override name = 'BodyTooLargeError'
  constructor(limit: number) {
    super('E_BODY_TOO_LARGE', `The request body is over the ${limit}-byte limit`, {
      details: { limit },
      hint: 'Send a smaller body, or start the gateway with a larger maxBodyBytes.',
    })
  }
}

/** The body is not declared as JSON. */
export class UnsupportedMediaTypeError extends MeshError {
  override name = 'UnsupportedMediaTypeError'
  constructor(contentType: string | undefined) {
    super(
      'E_UNSUPPORTED_MEDIA_TYPE',
      `The request body must be application/json, not ${contentType ?? 'undeclared'}`,
      {
        details: { contentType: contentType === undefined ? '(none)' : truncate(contentType) },
        hint: 'Send the header "Content-Type: application/json" with a JSON body.',
      },
    )
  }
}

/** The body does not parse as JSON. */
export class BodyMalformedError extends MeshError {
  override name = 'BodyMalformedError'
  constructor(reason: string) {
    super('E_BODY_MALFORMED', `The request body is not valid JSON: ${truncate(reason)}`, {
      details: { reason: truncate(reason) },
      hint: 'Send one JSON object as the body (check quoting and trailing commas).',
    })
  }
}

/** The body (or a query parameter or header) is JSON but breaks the route's schema. */
export class RequestInvalidError extends MeshError {
  override name = 'RequestInvalidError'
  constructor(where: 'body' | 'query' | 'header' | 'path', field: string, rule: string) {
    super('E_REQUEST_INVALID', `Invalid request ${where} at ${field || '(root)'}: ${rule}`, {
      details: { where, field: field || '(root)', rule },
      hint: 'GET /openapi.json gives the schema of each route.',
    })
  }
}

/** A principal sent more requests than its rate limit allows. */
export class RateLimitedError extends MeshError {
  override name = 'RateLimitedError'
  readonly retryAfterSeconds: number
  constructor(principal: string, ratePerSecond: number, retryAfterSeconds: number) {
    super('E_RATE_LIMITED', `${principal} is over its rate limit of ${ratePerSecond} requests a second`, {
      details: { principal, ratePerSecond, retryAfterSeconds },
      hint: `Retry after ${retryAfterSeconds} s (the Retry-After header), or raise the gateway's rateLimit.`,
    })
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Something failed that is not a `MeshError`: the body says no more than that (no stack). */
export class InternalError extends MeshError {
  override name = 'InternalError'
  constructor(cause: unknown) {
    super('E_INTERNAL', 'The gateway failed to answer this request', {
      details: { error: cause instanceof Error ? cause.name : typeof cause },
      hint: 'This is a bug or an environment failure; the gateway log (DEBUG=fmesh:gateway) has the cause.',
    })
  }
}

/** `url` or `port` was read before the mesh started the gateway. */
export class GatewayNotStartedError extends MeshError {
  override name = 'GatewayNotStartedError'
  constructor() {
    super('E_GATEWAY_NOT_STARTED', 'The gateway has not started', {
      hint: 'Read url and port after createMesh({ services: [gateway] }) has resolved.',
    })
  }
}

/** The server could not listen on its host and port. */
export class GatewayListenError extends MeshError {
  override name = 'GatewayListenError'
  constructor(host: string, port: number, err: NodeJS.ErrnoException) {
    super('E_GATEWAY_LISTEN', `The gateway cannot listen on ${host}:${port}`, {
      details: { host, port, reason: err.code ?? err.message },
      hint:
        err.code === 'EADDRINUSE'
          ? 'Another process uses that port: pick another (port: 0 picks a free one).'
          : 'Check the host and port options.',
      cause: err,
    })
  }
}

/** The web view's files are not where the package keeps them. */
export class GatewayUiMissingError extends MeshError {
  override name = 'GatewayUiMissingError'
  constructor() {
    super('E_GATEWAY_UI_MISSING', 'The web view files (gateway/ui) are missing from the package', {
      hint: 'Reinstall function-mesh; its package includes gateway/ui.',
    })
  }
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text
}

/** `GET /v1/node` on a gateway that runs beside no peer node (only `fmesh node start` gives it one). */
export class NoPeerNodeError extends MeshError {
  override name = 'NoPeerNodeError'
  constructor() {
    super('E_NO_PEER_NODE', 'This gateway runs beside no peer node', {
      hint: 'The node routes answer on the API `fmesh node start` serves (its URL is in DATA_DIR/node/api.json).',
    })
  }
}
