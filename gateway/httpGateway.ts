import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { ServiceComponents, ServiceFactory, Startable } from '../src/components.js'
import { ConfigError } from '../src/errors/registry.js'
import { buildApp } from './_app.js'
import { TokenBook } from './_auth.js'
import { callRoutes } from './_callRoutes.js'
import { fastRoutes } from './_fastRoutes.js'
import { functionRoutes } from './_functionRoutes.js'
import { LiveState } from './_liveState.js'
import { GatewayMetrics } from './_metrics.js'
import { adminRoutes, nodeStatusRoutes } from './_nodeRoutes.js'
import { openapiDocument } from './_openapi.js'
import { opsRoutes } from './_opsRoutes.js'
import { RateLimiter, type RateLimitInit } from './_rateLimit.js'
import type { GatewayContext, RouteSpec } from './_route.js'
import { GatewayListenError, GatewayNotStartedError, GatewayUiMissingError } from './errors.js'
import type { GatewayToken } from './tokens.js'

/** @default '127.0.0.1' */
export const DEFAULT_GATEWAY_HOST = '127.0.0.1'
/** @default 7420 */
export const DEFAULT_GATEWAY_PORT = 7420
/** Largest request body. @default 1048576 (1 MiB) */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** How long `stop` lets requests in flight finish before it cuts their connections. */
const STOP_GRACE_MS = 5_000
/** Calls kept for `GET /v1/calls` and the web view. @default 200 */
export const DEFAULT_RECENT_CALLS = 200

/** Options of {@link httpGateway}. */
export interface HttpGatewayInit {
  /** The address to listen on. Anything but a loopback address exposes the node. @default DEFAULT_GATEWAY_HOST */
  host?: string
  /** 0 picks a free port (read it from `url` or `port`). @default DEFAULT_GATEWAY_PORT */
  port?: number
  /** Bearer tokens for the mutating routes (call, dispatch); with none, those routes refuse every request. */
  tokens?: readonly GatewayToken[]
  /** Per-principal limit on authenticated requests, or `false` for none. @default DEFAULT_RATE_LIMIT */
  rateLimit?: RateLimitInit | false
  /** @default DEFAULT_MAX_BODY_BYTES */
  maxBodyBytes?: number
  /** @default DEFAULT_RECENT_CALLS */
  recentCalls?: number
  /**
   * The status of the peer node this gateway runs beside, served at `GET /v1/node` (what `fmesh node
   * status` and `fmesh node peers` print). Without it that route answers E_NO_PEER_NODE.
   */
  node?: () => unknown | Promise<unknown>
}

/** The running gateway service (what the factory made). */
export interface HttpGateway extends Startable {
  /** `http://127.0.0.1:PORT` once started. */
  readonly url: string
  readonly port: number
  /** The gateway's own Prometheus registry (what `/metrics` serves). */
  readonly metrics: GatewayMetrics['registry']
  /** Every route the server answers, as hono registered them (`/v1/calls/:invocationId/lineage`). */
  readonly routes: readonly { readonly method: string; readonly path: string }[]
  /** Answers a request without the network (tests, embedding in another server). */
  fetch(request: Request): Promise<Response>
}

/** The factory `createMesh({ services })` takes; once the mesh has started it, `url` and `port` say where it listens. */
export interface HttpGatewayFactory extends ServiceFactory<HttpGateway> {
  readonly url: string
  readonly port: number
  /** The service, once the mesh has made it. */
  readonly service: HttpGateway | undefined
}

/**
 * An HTTP gateway for a mesh: a JSON API under `/v1` (functions, resolve, select, call, dispatch,
 * lineage, usage, provider health, peers), `/healthz`, `/readyz`, `/openapi.json`, Prometheus
 * `/metrics`, a live feed (`/v1/events`, server-sent events) and the operator web view at `/`. Built
 * on hono and @hono/node-server; listens on 127.0.0.1 by default.
 *
 * @example
 * ```ts
 * const { token, tokenHash } = generateToken()
 * const gateway = httpGateway({ port: 0, tokens: [{ tokenHash, principal: 'app' }] })
 * const mesh = await createMesh({ services: [gateway] })
 * const res = await fetch(`${gateway.url}/v1/call`, {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
 *   body: JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'hi' } }),
 * })
 * await mesh.close()
 * ```
 */
export function httpGateway(init: HttpGatewayInit = {}): HttpGatewayFactory {
  const checked = checkInit(init)
  let made: GatewayService | undefined
  const factory = (components: ServiceComponents): HttpGateway => {
    if (made !== undefined)
      throw new ConfigError('gateway', 'this httpGateway(...) is already used by a mesh; make one per mesh')
    made = new GatewayService(checked, components)
    return made
  }
  return Object.defineProperties(factory, {
    url: { get: () => (made ?? notStarted()).url },
    port: { get: () => (made ?? notStarted()).port },
    service: { get: () => made },
  }) as HttpGatewayFactory
}

function notStarted(): never {
  throw new GatewayNotStartedError()
}

interface CheckedInit {
  host: string
  port: number
  tokens: TokenBook
  rateLimit: ReturnType<typeof RateLimiter.check>
  maxBodyBytes: number
  recentCalls: number
  node: (() => unknown | Promise<unknown>) | undefined
}

function checkInit(init: HttpGatewayInit): CheckedInit {
  if (init === null || typeof init !== 'object') throw new ConfigError('gateway', 'must be an options object')
  const known = ['host', 'port', 'tokens', 'rateLimit', 'maxBodyBytes', 'recentCalls', 'node']
  for (const key of Object.keys(init))
    if (!known.includes(key))
      throw new ConfigError(`gateway.${key}`, `unknown option; known: ${known.join(', ')}`)
  const host = init.host ?? DEFAULT_GATEWAY_HOST
  if (typeof host !== 'string' || host === '')
    throw new ConfigError('gateway.host', 'must be a host name or address')
  const port = init.port ?? DEFAULT_GATEWAY_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('gateway.port', 'must be an integer 0-65535')
  const maxBodyBytes = init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new ConfigError('gateway.maxBodyBytes', 'must be a positive integer')
  const recentCalls = init.recentCalls ?? DEFAULT_RECENT_CALLS
  if (!Number.isInteger(recentCalls) || recentCalls < 0)
    throw new ConfigError('gateway.recentCalls', 'must be an integer >= 0')
  if (init.node !== undefined && typeof init.node !== 'function')
    throw new ConfigError('gateway.node', 'must be a function returning the node status')
  return {
    host,
    port,
    tokens: new TokenBook(init.tokens),
    rateLimit: RateLimiter.check(init.rateLimit),
    maxBodyBytes,
    recentCalls,
    node: init.node,
  }
}

const ROUTES: readonly RouteSpec[] = [...functionRoutes, ...callRoutes, ...adminRoutes, ...opsRoutes]

/** The web view's files, read once from `gateway/ui` (beside this file, or in the package for dist). */
function loadUi(): Map<string, string> {
  const files = new Map<string, string>()
  for (const dir of ['./ui/', '../../gateway/ui/']) {
    try {
      for (const name of ['index.html', 'app.js', 'app.css'])
        files.set(name, readFileSync(new URL(`${dir}${name}`, import.meta.url), 'utf8'))
      return files
    } catch {
      files.clear()
    }
  }
  throw new GatewayUiMissingError()
}

class GatewayService implements HttpGateway {
  private readonly state: LiveState
  private readonly gatewayMetrics: GatewayMetrics
  private readonly context: GatewayContext
  private readonly app: ReturnType<typeof buildApp>
  private server: Server | undefined
  private address: AddressInfo | undefined
  private phase: 'new' | 'running' | 'stopped' = 'new'
  private endStreams!: () => void

  constructor(
    private readonly init: CheckedInit,
    private readonly components: ServiceComponents,
  ) {
    const { mesh, clock } = components
    const routes = init.node === undefined ? ROUTES : [...ROUTES, ...nodeStatusRoutes]
    this.state = new LiveState(init.recentCalls, () => clock.now())
    this.gatewayMetrics = new GatewayMetrics(mesh, this.state)
    let doc: unknown
    const stopped = new Promise<void>((resolve) => {
      this.endStreams = resolve
    })
    this.context = {
      mesh,
      state: this.state,
      metrics: this.gatewayMetrics,
      tokens: init.tokens,
      limiter: new RateLimiter(init.rateLimit, clock),
      clock,
      log: components.logger('gateway'),
      maxBodyBytes: init.maxBodyBytes,
      running: () => this.phase === 'running',
      stopped,
      openapi: () => {
        doc ??= openapiDocument(routes, packageVersion())
        return doc
      },
      ui: loadUi(),
      node: init.node,
    }
    this.app = buildApp(this.context, routes)
  }

  get metrics() {
    return this.gatewayMetrics.registry
  }

  get routes(): readonly { method: string; path: string }[] {
    return this.app.routes.map((r) => ({ method: r.method, path: r.path }))
  }

  get port(): number {
    if (this.address === undefined) return notStarted()
    return this.address.port
  }

  get url(): string {
    if (this.address === undefined) return notStarted()
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address
    return `http://${host}:${this.address.port}`
  }

  fetch(request: Request): Promise<Response> {
    return Promise.resolve(this.app.fetch(request))
  }

  async start(): Promise<void> {
    if (this.phase !== 'new') return
    this.phase = 'running'
    this.state.listen(this.components.events, this.components.mesh.health)
    // The hot routes are answered on node:http before the adaptor builds web objects (fastRoutes).
    const hono = getRequestListener(this.app.fetch, { hostname: this.init.host })
    const server = createServer(fastRoutes(this.context, ROUTES, hono))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(new GatewayListenError(this.init.host, this.init.port, err))
      server.once('error', onError)
      server.listen(this.init.port, this.init.host, () => {
        server.off('error', onError)
        resolve()
      })
    }).catch(async (err) => {
      await this.stop()
      throw err
    })
    this.address = server.address() as AddressInfo
    this.components.events.emit('service', { type: 'gateway:listening', url: this.url })
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return
    this.phase = 'stopped'
    this.endStreams()
    this.state.stop()
    this.gatewayMetrics.stop()
    const server = this.server
    if (server === undefined || !server.listening) return
    await new Promise<void>((resolve) => {
      // Event streams end above; their connections go idle a moment later and are closed then. A
      // request still running after STOP_GRACE_MS is cut.
      const idle = setInterval(() => server.closeIdleConnections(), 20)
      const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS)
      server.close(() => {
        clearInterval(idle)
        clearTimeout(cut)
        resolve()
      })
      server.closeIdleConnections()
    })
  }
}

function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'function-mesh' && pkg.version) return pkg.version
    } catch {}
  }
  return '0.0.0'
}
