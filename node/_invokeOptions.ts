import type { Clock } from '../src/clock.js'
import { InvalidArgumentError } from '../src/errors/mesh.js'
import { ConfigError } from '../src/errors/registry.js'
import type { Libp2pTransportOptions } from './_invokeCaller.js'
import type { HostMesh } from './_invokeHost.js'

/** Options of `serveInvocations`. Every field is optional. */
export interface ServeInvocationsOptions {
  /** The mesh's clock: request timeouts and rate limits run on it. @default systemClock */
  clock?: Clock
  /** Largest input accepted. @default 1048576 */
  maxInputBytes?: number
  /** Largest request header accepted. @default 16384 */
  maxHeaderBytes?: number
  /** Time a peer has to send its whole request once the stream is open. @default 10000 */
  requestTimeoutMs?: number
  /** Longest deadline honoured, whatever time the caller says is left. @default 300000 */
  maxTimeoutMs?: number
  /** Invocations running at once, all peers together. @default 64 */
  maxConcurrent?: number
  /** Invocations running at once for one peer. @default 16 */
  maxConcurrentPerPeer?: number
  /** Calls a second per peer (a token bucket). @default { perSecond: 100, burst: 200 } */
  rate?: { perSecond: number; burst: number }
  /** Open invoke streams per connection and protocol (libp2p's `maxInboundStreams`). @default 32 */
  maxInboundStreams?: number
  /** How long a keep-alive invoke stream (`/fmesh/invoke/1.1.0`) with no call in flight stays open. @default 60000 */
  sessionIdleMs?: number
  /** Which local functions peers may call. @default every function in the marketplace */
  allow?: (call: { name: string; version: string; peer: string }) => boolean
  /** The principal a remote call runs as on this node. @default `${claimed}@${peerId}` */
  principal?: (peer: string, claimed: string) => string
}

/** Largest input a host accepts. @default 1048576 (1 MiB) */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024
/** Largest request header a host accepts. @default 16384 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024
/** Time a peer has to send its request (and to take the answer). @default 10000 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** Longest deadline a host honours. @default 300000 */
export const DEFAULT_MAX_TIMEOUT_MS = 300_000
/** Invocations a host runs at once, all peers together. @default 64 */
export const DEFAULT_MAX_CONCURRENT = 64
/** Invocations a host runs at once for one peer. @default 16 */
export const DEFAULT_MAX_CONCURRENT_PER_PEER = 16
/** Calls a second per peer (token bucket). @default { perSecond: 100, burst: 200 } */
export const DEFAULT_RATE = Object.freeze({ perSecond: 100, burst: 200 })
/** Open invoke streams per connection. @default 32 */
export const DEFAULT_MAX_INBOUND_STREAMS = 32

const KNOWN_SERVE = new Set([
  'clock',
  'maxInputBytes',
  'maxHeaderBytes',
  'requestTimeoutMs',
  'maxTimeoutMs',
  'maxConcurrent',
  'maxConcurrentPerPeer',
  'rate',
  'maxInboundStreams',
  'sessionIdleMs',
  'allow',
  'principal',
])

function positiveInt(path: string, value: unknown, max: number): void {
  if (
    value !== undefined &&
    !(Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max)
  )
    throw new ConfigError(path, `must be an integer from 1 to ${max}`)
}

/** A started libp2p node: what both halves of the protocol need of it. */
export function checkLibp2p(fn: string, libp2p: unknown): void {
  const node = libp2p as { handle?: unknown; dialProtocol?: unknown; getConnections?: unknown } | null
  if (
    node === null ||
    typeof node !== 'object' ||
    typeof node.handle !== 'function' ||
    typeof node.dialProtocol !== 'function' ||
    typeof node.getConnections !== 'function'
  )
    throw new InvalidArgumentError(fn, 'libp2p', 'a libp2p node (createLibp2p from libp2p 3)', libp2p)
}

/** Checks `serveInvocations` arguments, naming the first bad one. */
export function checkServeArguments(
  libp2p: unknown,
  mesh: unknown,
  options: unknown,
): ServeInvocationsOptions {
  checkLibp2p('serveInvocations', libp2p)
  const m = mesh as Partial<HostMesh> | null
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.call !== 'function' ||
    typeof m.marketplace !== 'object'
  )
    throw new InvalidArgumentError('serveInvocations', 'mesh', 'a mesh (createMesh)', mesh)
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidArgumentError('serveInvocations', 'options', 'an options object', options)
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o))
    if (!KNOWN_SERVE.has(key)) throw new ConfigError(`serveInvocations.${key}`, 'is not an option')
  positiveInt('serveInvocations.maxInputBytes', o.maxInputBytes, 2 ** 31)
  positiveInt('serveInvocations.maxHeaderBytes', o.maxHeaderBytes, 2 ** 24)
  positiveInt('serveInvocations.requestTimeoutMs', o.requestTimeoutMs, 86_400_000)
  positiveInt('serveInvocations.maxTimeoutMs', o.maxTimeoutMs, 86_400_000)
  positiveInt('serveInvocations.maxConcurrent', o.maxConcurrent, 1_000_000)
  positiveInt('serveInvocations.maxConcurrentPerPeer', o.maxConcurrentPerPeer, 1_000_000)
  positiveInt('serveInvocations.maxInboundStreams', o.maxInboundStreams, 1_000_000)
  positiveInt('serveInvocations.sessionIdleMs', o.sessionIdleMs, 86_400_000)
  if (o.rate !== undefined) {
    const rate = o.rate as { perSecond?: unknown; burst?: unknown } | null
    if (rate === null || typeof rate !== 'object')
      throw new ConfigError('serveInvocations.rate', 'must be { perSecond, burst }')
    if (!(typeof rate.perSecond === 'number' && rate.perSecond > 0 && Number.isFinite(rate.perSecond)))
      throw new ConfigError('serveInvocations.rate.perSecond', 'must be a positive number')
    positiveInt('serveInvocations.rate.burst', rate.burst ?? Number.NaN, Number.MAX_SAFE_INTEGER)
  }
  for (const key of ['allow', 'principal'] as const)
    if (o[key] !== undefined && typeof o[key] !== 'function')
      throw new ConfigError(`serveInvocations.${key}`, 'must be a function')
  const clock = o.clock as { now?: unknown } | undefined
  if (clock !== undefined && (clock === null || typeof clock.now !== 'function'))
    throw new ConfigError('serveInvocations.clock', 'must be a clock ({ now(), schedule? })')
  return o as ServeInvocationsOptions
}

/** Checks `libp2pTransport` arguments. */
export function checkTransportArguments(libp2p: unknown, options: unknown): Libp2pTransportOptions {
  checkLibp2p('libp2pTransport', libp2p)
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidArgumentError('libp2pTransport', 'options', 'an options object', options)
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o))
    if (key !== 'maxResponseHeaderBytes' && key !== 'keepAlive')
      throw new ConfigError(`libp2pTransport.${key}`, 'is not an option')
  positiveInt('libp2pTransport.maxResponseHeaderBytes', o.maxResponseHeaderBytes, 2 ** 24)
  if (o.keepAlive !== undefined && typeof o.keepAlive !== 'boolean')
    throw new ConfigError('libp2pTransport.keepAlive', 'must be a boolean')
  return o as Libp2pTransportOptions
}
