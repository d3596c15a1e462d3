import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { systemClock } from '../src/clock.js'
import { ProviderFailedError, ProviderResponseError, ProviderUnreachableError } from '../src/errors/invoke.js'
import type { Provider } from '../src/record/schema.js'
import type { Transport, TransportRequest, TransportResponse } from '../src/transport/types.js'
import {
  failedCall,
  InvokeSession,
  MAX_SESSION_INPUT_BYTES,
  MAX_SESSION_RESPONSE_BYTES,
} from './_invokeSession.js'
import {
  decodeJson,
  encodeJson,
  firstIssue,
  INVOKE_PROTOCOL,
  INVOKE_SESSION_PROTOCOL,
  type RequestHeader,
  ResponseHeaderSchema,
} from './_invokeWire.js'
import { PeerEndpointInvalidError } from './invokeErrors.js'

const PREFIX = 'libp2p:'
/** How long a peer that speaks only `/fmesh/invoke/1.0.0` is not offered 1.1.0 again. */
const LEGACY_MS = 5 * 60_000

/** Largest response header read (the error JSON of a failed call). @default 65536 */
export const DEFAULT_MAX_RESPONSE_HEADER_BYTES = 64 * 1024

/** Options of `libp2pTransport`. */
export interface Libp2pTransportOptions {
  /** Largest response header accepted. @default 65536 */
  maxResponseHeaderBytes?: number
  /**
   * Carry calls over one keep-alive `/fmesh/invoke/1.1.0` stream per peer; `false` opens a
   * `/fmesh/invoke/1.0.0` stream per call. @default true
   */
  keepAlive?: boolean
}

/** Where a `libp2p:` endpoint points: the peer, and the address to dial when it names one. */
export interface Libp2pTarget {
  readonly peer: PeerId
  readonly addr?: Multiaddr
}

/**
 * Parses `libp2p:/p2p/<peer id>` or `libp2p:<multiaddr>/p2p/<peer id>`; throws a
 * `PeerEndpointInvalidError` that says what is wrong.
 */
export function parseLibp2pEndpoint(provider: Pick<Provider, 'id' | 'endpoint'>): Libp2pTarget {
  const { id, endpoint } = provider
  if (!endpoint.startsWith(PREFIX))
    throw new PeerEndpointInvalidError(id, endpoint, 'it does not start with libp2p:')
  const rest = endpoint.slice(PREFIX.length)
  if (!rest.startsWith('/'))
    throw new PeerEndpointInvalidError(id, endpoint, 'after libp2p: comes a multiaddr such as /p2p/<peer id>')
  let addr: Multiaddr
  try {
    addr = multiaddr(rest)
  } catch (err) {
    throw new PeerEndpointInvalidError(id, endpoint, `it is not a multiaddr (${(err as Error).message})`, err)
  }
  const components = addr.getComponents()
  const last = components[components.length - 1]
  if (last?.name !== 'p2p' || last.value === undefined)
    throw new PeerEndpointInvalidError(id, endpoint, 'it does not end in /p2p/<peer id>')
  let peer: PeerId
  try {
    peer = peerIdFromString(last.value)
  } catch (err) {
    throw new PeerEndpointInvalidError(id, endpoint, `${last.value.slice(0, 80)} is not a peer id`, err)
  }
  return components.length === 1 ? { peer } : { peer, addr }
}

/**
 * Carries calls to `libp2p:` providers: over one keep-alive `/fmesh/invoke/1.1.0` stream per peer
 * (no stream opening or protocol negotiation per call), or one `/fmesh/invoke/1.0.0` stream per call
 * with peers that speak only that, and for calls with large inputs or outputs (see `_invokeSession.ts`).
 */
export class Libp2pCaller implements Transport {
  readonly name = 'libp2p'
  private readonly targets = new Map<string, Libp2pTarget>()
  private readonly sessions = new Map<string, InvokeSession>()
  private readonly opening = new Map<string, Promise<InvokeSession | undefined>>()
  /** Peers that answered a keep-alive offer with 1.0.0, until when (ms) they are not offered it again. */
  private readonly legacy = new Map<string, number>()
  private readonly maxHeaderBytes: number
  private readonly keepAlive: boolean

  constructor(
    private readonly libp2p: Libp2p,
    options: Libp2pTransportOptions,
  ) {
    this.maxHeaderBytes = options.maxResponseHeaderBytes ?? DEFAULT_MAX_RESPONSE_HEADER_BYTES
    this.keepAlive = options.keepAlive !== false
  }

  handles(endpoint: string): boolean {
    return endpoint.startsWith(PREFIX)
  }

  async call(request: TransportRequest): Promise<TransportResponse> {
    const { provider, signal } = request
    const target = this.target(provider)
    if (signal.aborted) throw signal.reason
    let stream: Stream | undefined
    if (
      this.keepAlive &&
      request.maxResponseBytes <= MAX_SESSION_RESPONSE_BYTES &&
      request.inputBytes.byteLength <= MAX_SESSION_INPUT_BYTES
    ) {
      const got = await this.session(target, request)
      if (got instanceof InvokeSession) {
        if (signal.aborted) throw signal.reason
        return got.call(provider, this.header(request), request.inputBytes, signal)
      }
      stream = got
    }
    stream ??= await this.openOrThrow(target, request, [INVOKE_PROTOCOL])
    return this.single(stream, request)
  }

  /**
   * The peer's keep-alive session: the open one, the one being opened, or a new one. Undefined when
   * the peer speaks only `/fmesh/invoke/1.0.0` (remembered a while) or the session is full; a 1.0.0
   * stream when opening one negotiated that instead (it carries this call).
   */
  private async session(
    target: Libp2pTarget,
    request: TransportRequest,
  ): Promise<InvokeSession | Stream | undefined> {
    const key = target.peer.toString()
    const open = this.sessions.get(key)
    if (open !== undefined) return open.usable ? open : undefined
    const legacy = this.legacy.get(key)
    if (legacy !== undefined && legacy > Date.now()) return undefined
    const opening = this.opening.get(key)
    if (opening !== undefined) {
      const session = await opening.catch(() => undefined)
      return session?.usable === true ? session : undefined
    }
    const stream = this.openOrThrow(target, request, [INVOKE_SESSION_PROTOCOL, INVOKE_PROTOCOL])
    const made = stream.then((s) => {
      if (s.protocol !== INVOKE_SESSION_PROTOCOL) {
        if (this.legacy.size >= 4096) this.legacy.clear()
        this.legacy.set(key, Date.now() + LEGACY_MS)
        return undefined
      }
      const session: InvokeSession = new InvokeSession(s, this.maxHeaderBytes, () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key)
      })
      this.sessions.set(key, session)
      return session
    })
    this.opening.set(key, made)
    try {
      const session = await made
      return session ?? (await stream)
    } finally {
      this.opening.delete(key)
    }
  }

  /** Closes the keep-alive streams when the mesh closes (a libp2p node it shares keeps running). */
  async stop(): Promise<void> {
    for (const session of [...this.sessions.values()]) session.close()
  }

  private async openOrThrow(
    target: Libp2pTarget,
    request: TransportRequest,
    protocols: string[],
  ): Promise<Stream> {
    const { provider, signal } = request
    try {
      return await this.open(target, protocols, signal)
    } catch (err) {
      if (signal.aborted) throw signal.reason
      throw new ProviderUnreachableError(
        provider.id,
        provider.endpoint,
        `could not open ${protocols.join(' or ')} to ${target.peer.toString()}: ${(err as Error).message}`,
        err,
      )
    }
  }

  /** One call on its own `/fmesh/invoke/1.0.0` stream. */
  private async single(stream: Stream, request: TransportRequest): Promise<TransportResponse> {
    const { signal } = request
    // Whatever fails from here on may have reached the host (`sent`), unless the host says it did not.
    const onAbort = () => stream.abort(new Error('the caller cancelled the call'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      if (signal.aborted) throw signal.reason
      return await this.exchange(stream, request)
    } finally {
      signal.removeEventListener('abort', onAbort)
      if (stream.status === 'open') stream.abort(new Error('invoke exchange ended'))
    }
  }

  /**
   * A stream on an open connection to the peer when there is one (`dialProtocol` would look the
   * peer up in the dial queue first, ~150 us more), else on a new dial.
   */
  private async open(target: Libp2pTarget, protocols: string[], signal: AbortSignal): Promise<Stream> {
    const connection = this.libp2p
      .getConnections(target.peer)
      .find((c) => c.status === 'open' && c.limits === undefined)
    if (connection !== undefined) {
      try {
        return await connection.newStream(protocols, { signal })
      } catch (err) {
        if (signal.aborted || (err as Error)?.name === 'UnsupportedProtocolError') throw err
        // The connection was closing: dial afresh below.
      }
    }
    return this.libp2p.dialProtocol(target.addr ?? target.peer, protocols, { signal })
  }

  private target(provider: Provider): Libp2pTarget {
    let target = this.targets.get(provider.endpoint)
    if (target === undefined) {
      target = parseLibp2pEndpoint(provider)
      if (this.targets.size >= 4096) this.targets.clear()
      this.targets.set(provider.endpoint, target)
    }
    return target
  }

  private async exchange(stream: Stream, request: TransportRequest): Promise<TransportResponse> {
    const { provider, signal } = request
    const { id, endpoint } = provider
    const limit = request.maxResponseBytes
    const lp = lpStream(stream, {
      maxDataLength: Math.max(limit, this.maxHeaderBytes),
      maxBufferSize: limit + this.maxHeaderBytes + 64,
    })
    const input = request.inputBytes
    const header = this.header(request)
    // Read while writing: the host may answer (a refusal) before it has read all of a large input.
    const headerFrame = lp.read({ signal })
    headerFrame.catch(() => {})
    let writeError: unknown
    try {
      await lp.writeV([encodeJson(header), input], { signal })
      await stream.close({ signal })
    } catch (err) {
      if (signal.aborted) throw signal.reason
      writeError = err
    }
    let raw: unknown
    try {
      const frame = await headerFrame
      if (frame.byteLength > this.maxHeaderBytes)
        throw new ProviderResponseError(
          id,
          endpoint,
          `the response header is over ${this.maxHeaderBytes} bytes`,
        )
      raw = decodeJson(frame.subarray())
    } catch (err) {
      if (signal.aborted) throw signal.reason
      if (err instanceof ProviderResponseError) throw err
      if (err instanceof SyntaxError || err instanceof TypeError)
        throw new ProviderResponseError(id, endpoint, 'the response header is not UTF-8 JSON', {}, err)
      throw this.lost(provider, writeError ?? err)
    }
    const parsed = ResponseHeaderSchema.safeParse(raw)
    if (!parsed.success) {
      const [field, rule] = firstIssue(parsed.error)
      throw new ProviderResponseError(id, endpoint, `the response header's ${field} ${rule}`, { field })
    }
    const answer = parsed.data
    if (!answer.ok) throw failedCall(provider, answer)
    if (answer.outputBytes > limit)
      throw new ProviderResponseError(
        id,
        endpoint,
        `the output is ${answer.outputBytes} bytes, over the ${limit} byte limit`,
        {
          limit,
        },
      )
    let output: unknown
    try {
      const body = (await lp.read({ signal })).subarray()
      if (body.byteLength !== answer.outputBytes)
        throw new ProviderResponseError(
          id,
          endpoint,
          `the header says ${answer.outputBytes} output bytes but the frame has ${body.byteLength}`,
        )
      output = decodeJson(body)
    } catch (err) {
      if (signal.aborted) throw signal.reason
      if (err instanceof ProviderResponseError) throw err
      if (err instanceof SyntaxError || err instanceof TypeError)
        throw new ProviderResponseError(id, endpoint, 'the output is not UTF-8 JSON', {}, err)
      if ((err as Error)?.name === 'InvalidDataLengthError')
        throw new ProviderResponseError(id, endpoint, `the output frame is over the ${limit} byte limit`, {
          limit,
        })
      throw this.lost(provider, err)
    }
    return { output, quantity: BigInt(answer.quantity), providerInvocation: answer.invocation }
  }

  /** The request header of a call (the same on both protocol versions but for the keep-alive id). */
  private header(request: TransportRequest): RequestHeader {
    const header: RequestHeader = {
      v: 1,
      fn: `${request.name}@${request.version}`,
      invocation: request.invocationId,
      attempt: request.attempt,
      traceparent: request.traceparent,
      principal: request.principal,
      maxResponseBytes: request.maxResponseBytes,
      inputBytes: request.inputBytes.byteLength,
    }
    if (request.idempotencyKey !== undefined) header.idempotencyKey = request.idempotencyKey
    if (request.deadline !== undefined) {
      const now = (request.clock ?? systemClock).now()
      header.timeoutMs = Math.max(0, Math.floor(request.deadline - now))
    }
    return header
  }

  /** The stream died after the request was (perhaps) delivered. */
  private lost(provider: Provider, err: unknown): ProviderFailedError {
    const reason = (err as Error)?.message ?? String(err)
    return new ProviderFailedError(
      provider.id,
      provider.endpoint,
      `the invoke stream failed after the request was sent (${reason})`,
      { retryable: true, sent: true },
      err,
    )
  }
}
