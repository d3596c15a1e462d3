import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { systemClock } from '../src/clock.js'
import type { Transport, TransportRequest, TransportResponse } from '../src/transport/types.js'
import type { ConnectionTarget, McpConnection } from './_connection.js'
import { ConnectionPool } from './_pool.js'
import { callFailure, networkCode, toResponse } from './_results.js'
import { checkServers, type McpServers } from './config.js'
import { type McpEndpoint, parseMcpEndpoint } from './endpoint.js'
import {
  McpEndpointInvalidError,
  McpServerUnavailableError,
  McpUnknownServerError,
  McpUnknownToolError,
} from './errors.js'

/** Time to start a server (or reach it) and initialize. @default 10000 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/**
 * Added to the time left before the SDK's own request timer fires: the mesh's deadline (on its
 * clock, through the request's onAbort) is what cancels a call; the SDK timer is only a backstop.
 * @default 5000
 */
export const SDK_TIMEOUT_GRACE_MS = 5_000

/** Options of {@link mcpTransport}. */
export interface McpTransportInit {
  /** The stdio servers `mcp+stdio:NAME/TOOL` may name: `{ NAME: { command, args?, env?, cwd? } }`. */
  servers?: McpServers
  /** Time to start or reach a server and initialize it. @default DEFAULT_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number
  /** Whether `mcp+http(s)://` endpoints may be called. @default true */
  http?: boolean
}

/** The transport, with its connection pool's counters for tests and diagnostics. */
export interface McpTransport extends Transport {
  /** Connections opened per server key (`stdio:NAME`, `http:URL`): a count above 1 means restarts. */
  readonly opened: ReadonlyMap<string, number>
  /** Closes every connection (stops the stdio servers). The mesh calls it when it closes. */
  stop(): Promise<void>
}

/**
 * Calls tools on MCP servers as providers: `mcp+stdio:SERVER/TOOL` (SERVER from `servers`, the local
 * config; a record can only name it) and `mcp+http(s)://HOST:PORT/PATH#TOOL` (streamable HTTP). The
 * mesh governs the call as any other: input and output schemas, deadline, retries by idempotency
 * class, lineage and billing. The deadline and cancellation become `notifications/cancelled`; the
 * result's `structuredContent` (else one JSON text block) is the output; `isError` results, protocol
 * violations and dead servers are `ProviderCallError`s from `mcp/errors.ts`. One connection per
 * server, restarted on the next call after it dies.
 *
 * A tool may bill units of work by putting `"function-mesh/quantity": N` in its result's `_meta`.
 * The call's facts travel in the request's `_meta`: `traceparent`, `function-mesh/invocation`,
 * `function-mesh/attempt`, `function-mesh/function`, `function-mesh/deadline`,
 * `function-mesh/idempotency-key`.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({
 *   transports: [mcpTransport({ servers: { images: { command: 'node', args: ['image-server.js'] } } })],
 * })
 * // a record's provider: { id: 'images-local', endpoint: 'mcp+stdio:images/sharpen' }
 * ```
 */
export function mcpTransport(init: McpTransportInit = {}): McpTransport {
  const servers = checkServers(init.servers)
  const pool = new ConnectionPool(init.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)
  const http = init.http ?? true
  return {
    name: 'mcp',
    handles: (endpoint) => endpoint.startsWith('mcp+stdio:') || (http && endpoint.startsWith('mcp+http')),
    call: (request) => callMcp(servers, pool, request),
    opened: pool.opened,
    stop: () => pool.stop(),
  }
}

interface Where {
  readonly provider: string
  readonly endpoint: string
}

async function callMcp(
  servers: McpServers,
  pool: ConnectionPool,
  request: TransportRequest,
): Promise<TransportResponse> {
  // `request.signal` is read only off the warm path: the invoker makes it on first read, and the
  // call's stop reaches the connection through `onAbort` without it.
  const { provider } = request
  const where: Where = { provider: provider.id, endpoint: provider.endpoint }
  const parsed = parseMcpEndpoint(provider.endpoint)
  if (typeof parsed === 'string') throw new McpEndpointInvalidError(provider.id, provider.endpoint, parsed)
  const serverName = parsed.kind === 'stdio' ? parsed.server : parsed.url
  let target: ConnectionTarget
  if (parsed.kind === 'stdio') {
    const server = servers[parsed.server]
    if (server === undefined) throw new McpUnknownServerError(where, parsed.server, Object.keys(servers))
    target = { kind: 'stdio', name: parsed.server, server }
  } else target = { kind: 'http', url: parsed.url }

  // A warm connection is taken without an await, so that the request reaches the pipe within the
  // caller's synchronous step (the invoker commits FUNCTION_INVOKED after it, where it may).
  const connection = pool.peek(parsed.key) ?? (await connect(pool, parsed, target, where, request))
  const tool = parsed.tool
  let listed = connection.tools.get(tool)
  if (listed === undefined) {
    const signal = request.signal
    await raceAbort(connection.relist(), signal).catch((err: unknown) => {
      if (signal.aborted) throw err
    })
    listed = connection.tools.get(tool)
    if (listed === undefined)
      throw new McpUnknownToolError(where, serverName, tool, [...connection.tools.keys()])
  }

  const clock = request.clock ?? systemClock
  const left = request.deadline === undefined ? 60_000 : Math.max(1, request.deadline - clock.now())
  const timeoutMs = left + SDK_TIMEOUT_GRACE_MS
  const meta: Record<string, unknown> = {
    traceparent: request.traceparent,
    'function-mesh/invocation': request.invocationId,
    'function-mesh/attempt': request.attempt,
    'function-mesh/function': `${request.name}@${request.version}`,
  }
  if (request.deadline !== undefined) meta['function-mesh/deadline'] = request.deadline
  if (request.idempotencyKey !== undefined) meta['function-mesh/idempotency-key'] = request.idempotencyKey

  let result: Awaited<ReturnType<McpConnection['callTool']>>
  try {
    result = await connection.callTool(tool, request.input, meta, {
      onAbort: request.onAbort?.bind(request) ?? ((fn) => listen(request.signal, fn)),
      timeoutMs,
      cancelReason: () =>
        request.deadline !== undefined && clock.now() >= request.deadline
          ? 'function-mesh: the call deadline passed'
          : 'function-mesh: the caller cancelled the call',
    })
  } catch (err) {
    if (request.signal.aborted) throw request.signal.reason
    throw callFailure(err, { where, serverName, tool, timeoutMs, connection, pool, key: parsed.key })
  }
  return toResponse(result, listed.validateOutput, where, serverName, tool)
}

/** A new connection from the pool, or why there is none as an unavailable (not sent) error. */
async function connect(
  pool: ConnectionPool,
  parsed: McpEndpoint,
  target: ConnectionTarget,
  where: Where,
  request: TransportRequest,
): Promise<McpConnection> {
  const serverName = parsed.kind === 'stdio' ? parsed.server : parsed.url
  const signal = request.signal
  try {
    return await raceAbort(pool.get(parsed.key, target), signal)
  } catch (err) {
    if (signal.aborted) throw err
    throw new McpServerUnavailableError(where, serverName, startFailure(err), err)
  }
}

function startFailure(err: unknown): string {
  const code = networkCode(err)
  if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed)
    return 'it exited before initializing'
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return 'it did not initialize in time'
  if (code === 'ENOENT') return 'the command was not found'
  if (code !== undefined) return `${code} (${(err as Error).message})`
  return (err as Error)?.message ?? String(err)
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** `fn` once when `signal` fires (at once when it has), for a request without `onAbort`. */
function listen(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn()
    return () => {}
  }
  signal.addEventListener('abort', fn, { once: true })
  return () => signal.removeEventListener('abort', fn)
}
