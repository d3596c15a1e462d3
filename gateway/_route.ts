import type { Context } from 'hono'
import type { z } from 'zod'
import type { Clock } from '../src/clock.js'
import type { Logger } from '../src/logger.js'
import type { Mesh } from '../src/mesh.js'
import type { Principal, TokenBook } from './_auth.js'
import type { LiveState } from './_liveState.js'
import type { GatewayMetrics } from './_metrics.js'
import type { RateLimiter } from './_rateLimit.js'
import type { TokenScope } from './tokens.js'

/** A JSON Schema (2020-12) object, as OpenAPI 3.1 takes it. */
export type JsonSchema = Record<string, unknown>

/** Everything a route handler may use. */
export interface GatewayContext {
  readonly mesh: Mesh
  readonly state: LiveState
  readonly metrics: GatewayMetrics
  readonly tokens: TokenBook
  readonly limiter: RateLimiter
  readonly clock: Clock
  readonly log: Logger
  readonly maxBodyBytes: number
  /** Whether the gateway is serving (false while it stops). */
  running(): boolean
  /** Resolves when the gateway stops (open event streams end then). */
  readonly stopped: Promise<void>
  /** The OpenAPI document, built once from the route table. */
  openapi(): unknown
  /** The web view's files by name (`index.html`, `app.js`, `app.css`). */
  readonly ui: ReadonlyMap<string, string>
  /** The peer node's status (`GET /v1/node`), when the gateway runs beside one. */
  readonly node: (() => unknown | Promise<unknown>) | undefined
}

/** What a handler receives: the parsed, checked parts of the request. */
export interface RouteRequest<Q = Record<string, unknown>, B = unknown> {
  readonly c: Context
  readonly gw: GatewayContext
  readonly query: Q
  readonly body: B
  readonly params: Record<string, string>
  /** The caller, when the route needs a token (or one was sent to a route that reads it). */
  readonly principal: Principal | undefined
  /** A request header by lower-case name (repeated headers joined with `, `). */
  header(name: string): string | undefined
}

/** One route of the gateway: its handler and everything the OpenAPI document says about it. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST'
  /** OpenAPI form: `/v1/calls/{invocationId}/lineage`. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tag: string
  /** The token scope a caller needs; routes without one are open (reads). */
  readonly scope?: TokenScope
  /** Reads a token when one is sent (select runs under the token's context). */
  readonly optionalAuth?: boolean
  readonly query?: z.ZodObject
  readonly body?: z.ZodType
  /** Path parameters and their descriptions. */
  readonly params?: Readonly<Record<string, string>>
  /** @default 'application/json' */
  readonly produces?:
    | 'application/json'
    | 'text/plain'
    | 'text/html'
    | 'text/event-stream'
    | 'text/css'
    | 'text/javascript'
  /** Schema of the 200 answer (JSON routes). */
  readonly response?: JsonSchema
  /** Error statuses beyond the common ones (400, 404, 500) this route may answer. */
  readonly errors?: readonly number[]
  handle(request: RouteRequest<never, never>): Response | Promise<Response>
}

/** Types a route's handler by its schemas. */
export function route<
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  spec: Omit<RouteSpec, 'query' | 'body' | 'handle'> & {
    query?: Q
    body?: B
    handle(
      request: RouteRequest<
        Q extends z.ZodObject ? z.output<Q> : Record<string, never>,
        B extends z.ZodType ? z.output<B> : undefined
      >,
    ): Response | Promise<Response>
  },
): RouteSpec {
  return spec as unknown as RouteSpec
}
