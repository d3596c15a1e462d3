import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { systemClock } from '../src/clock.js'
import { ProviderFailedError, ProviderResponseError, ProviderUnreachableError } from '../src/errors/invoke.js'
import type { Provider } from '../src/record/schema.js'
import type { Transport, TransportRequest, TransportResponse } from '../src/transport/types.js'
import {
  decodeJson,
  encodeJson,
  firstIssue,
  INVOKE_PROTOCOL,
  type RequestHeader,
  ResponseHeaderSchema,
} from './_invokeWire.js'
import { PeerCallFailedError, PeerEndpointInvalidError } from './invokeErrors.js'

const PREFIX = 'libp2p:'

/** Largest response header read (the error JSON of a failed call). @default 65536 */
export const DEFAULT_MAX_RESPONSE_HEADER_BYTES = 64 * 1024

/** Options of `libp2pTransport`. */
export interface Libp2pTransportOptions {
  /** Largest response header accepted. @default 65536 */
  maxResponseHeaderBytes?: number
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

/** Carries calls to `libp2p:` providers over `/fmesh/invoke/1.0.0`. */
export class Libp2pCaller implements Transport {
  readonly name = 'libp2p'
  private readonly targets = new Map<string, Libp2pTarget>()
  private readonly maxHeaderBytes: number

  constructor(
    private readonly libp2p: Libp2p,
    options: Libp2pTransportOptions,
  ) {
    this.maxHeaderBytes = options.maxResponseHeaderBytes ?? DEFAULT_MAX_RESPONSE_HEADER_BYTES
  }

  handles(endpoint: string): boolean {
    return endpoint.startsWith(PREFIX)
  }

  async call(request: TransportRequest): Promise<TransportResponse> {
    const { provider, signal } = request
    const target = this.target(provider)
    if (signal.aborted) throw signal.reason
    let stream: Stream
    try {
      stream = await this.open(target, signal)
    } catch (err) {
      if (signal.aborted) throw signal.reason
      throw new ProviderUnreachableError(
        provider.id,
        provider.endpoint,
        `could not open ${INVOKE_PROTOCOL} to ${target.peer.toString()}: ${(err as Error).message}`,
        err,
      )
    }
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
  private async open(target: Libp2pTarget, signal: AbortSignal): Promise<Stream> {
    const connection = this.libp2p
      .getConnections(target.peer)
      .find((c) => c.status === 'open' && c.limits === undefined)
    if (connection !== undefined) {
      try {
        return await connection.newStream(INVOKE_PROTOCOL, { signal })
      } catch (err) {
        if (signal.aborted || (err as Error)?.name === 'UnsupportedProtocolError') throw err
        // The connection was closing: dial afresh below.
      }
    }
    return this.libp2p.dialProtocol(target.addr ?? target.peer, INVOKE_PROTOCOL, { signal })
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
    const header: RequestHeader = {
      v: 1,
      fn: `${request.name}@${request.version}`,
      invocation: request.invocationId,
      attempt: request.attempt,
      traceparent: request.traceparent,
      principal: request.principal,
      maxResponseBytes: limit,
      inputBytes: input.byteLength,
    }
    if (request.idempotencyKey !== undefined) header.idempotencyKey = request.idempotencyKey
    if (request.deadline !== undefined) {
      const now = (request.clock ?? systemClock).now()
      header.timeoutMs = Math.max(0, Math.floor(request.deadline - now))
    }
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
    if (!answer.ok)
      throw new PeerCallFailedError(
        id,
        endpoint,
        { code: answer.error.code, message: answer.error.shortMessage, invocation: answer.invocation },
        { sent: answer.ran, retryable: answer.retryable },
      )
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
