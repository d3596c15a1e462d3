import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { type Clock, scheduleOn, systemClock } from '../src/clock.js'
import { canonicalJson } from '../src/encoding/canonicalJson.js'
import { isMeshError, MeshError } from '../src/errors/base.js'
import { DeadlineExceededError, InvocationFailedError } from '../src/errors/invoke.js'
import type { MeshEvents } from '../src/events.js'
import type { CallOptions } from '../src/invoke/types.js'
import { logger } from '../src/logger.js'
import type { Marketplace } from '../src/marketplace/Marketplace.js'
import { type SecurityContext, securityContext } from '../src/security/SecurityContext.js'
import { failure } from './_invokeFailure.js'
import { DEFAULT_SESSION_IDLE_MS, serveSession } from './_invokeHostSession.js'
import {
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_CONCURRENT_PER_PEER,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_TIMEOUT_MS,
  DEFAULT_RATE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ServeInvocationsOptions,
} from './_invokeOptions.js'
import { type CheckedRequest, RequestChecks } from './_invokeRequest.js'
import {
  encodeJson,
  INVOKE_PROTOCOL,
  INVOKE_SESSION_PROTOCOL,
  type RequestHeader,
  RequestHeaderSchema,
  type ResponseHeader,
} from './_invokeWire.js'
import { PeerRateLimit } from './_peerRateLimit.js'
import {
  InvokeBusyError,
  InvokeRateLimitedError,
  PeerHostError,
  PeerRequestTimeoutError,
  PeerResponseTooLargeError,
} from './invokeErrors.js'

const log = logger('node:invoke')

/**
 * What the host needs of a mesh: its marketplace (what it hosts), its governed `call`, and (when
 * present) its events, where each served request is reported as a `peer:invoke` service event.
 */
export interface HostMesh {
  readonly marketplace: Marketplace
  readonly events?: Pick<MeshEvents, 'emit' | 'has'>
  call(
    name: string,
    input: unknown,
    options?: CallOptions,
  ): Promise<{
    output: unknown
    invocationId: string
    replayed: boolean
    charge: { quantity: bigint }
  }>
}

const BURST_BYTES = 512 * 1024

/** What goes back for one call: the response header, and the output frame on success. */
export type { CheckedRequest } from './_invokeRequest.js'

export interface Answer {
  readonly header: ResponseHeader
  readonly body?: Uint8Array
}

/** One running invocation, so `stop()` can wait for it or cut it short. */
interface InFlight {
  readonly done: Promise<void>
  readonly abort: () => void
}

/** Serves `/fmesh/invoke/1.0.0` for one mesh on one libp2p node. */
export class InvokeHost {
  private readonly clock: Clock
  private readonly maxInputBytes: number
  private readonly maxHeaderBytes: number
  private readonly requestTimeoutMs: number
  private readonly maxTimeoutMs: number
  private readonly maxConcurrent: number
  private readonly maxPerPeer: number
  private readonly limit: PeerRateLimit
  private readonly perPeer = new Map<string, number>()
  private readonly inFlight = new Set<InFlight>()
  private readonly contexts = new Map<string, SecurityContext>()
  private readonly sessions = new Map<Stream, () => void>()
  private stopped = false
  /** The checks of a request's frames, shared with the keep-alive streams. */
  readonly checks: RequestChecks

  constructor(
    private readonly libp2p: Libp2p,
    private readonly mesh: HostMesh,
    private readonly options: ServeInvocationsOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.maxTimeoutMs = options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
    this.maxPerPeer = options.maxConcurrentPerPeer ?? DEFAULT_MAX_CONCURRENT_PER_PEER
    const rate = options.rate ?? DEFAULT_RATE
    this.limit = new PeerRateLimit(rate.perSecond, rate.burst, this.clock)
    this.checks = new RequestChecks(this.maxHeaderBytes, this.maxInputBytes, mesh.marketplace, options.allow)
  }

  async start(): Promise<void> {
    const streams = { maxInboundStreams: this.options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS }
    await this.libp2p.handle(INVOKE_PROTOCOL, (stream, connection) => this.serve(stream, connection), streams)
    const limits = {
      clock: this.clock,
      maxHeaderBytes: this.maxHeaderBytes,
      maxInputBytes: this.maxInputBytes,
      requestTimeoutMs: this.requestTimeoutMs,
      idleMs: this.options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
    }
    await this.libp2p.handle(
      INVOKE_SESSION_PROTOCOL,
      (stream, connection) => {
        const peer = connection.remotePeer.toString()
        serveSession(this, stream, peer, limits).catch((err: unknown) => {
          log.error('invoke session from %s: %o', peer, err)
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        })
      },
      streams,
    )
  }

  /** Registers an open keep-alive stream, so `stop()` ends it once its calls are done. */
  session(stream: Stream, end: () => void): () => void {
    this.sessions.set(stream, end)
    return () => this.sessions.delete(stream)
  }

  /**
   * Stops accepting, then lets running calls finish (they leave their lineage); when `signal`
   * fires first, cuts them short (they fail, with lineage, and their callers get the error).
   */
  async stop(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const protocol of [INVOKE_PROTOCOL, INVOKE_SESSION_PROTOCOL])
      await this.libp2p.unhandle(protocol).catch((err: unknown) => log.error('unhandle: %o', err))
    const running = [...this.inFlight]
    const cut = () => {
      for (const f of running) f.abort()
    }
    if (options.signal?.aborted) cut()
    else options.signal?.addEventListener('abort', cut, { once: true })
    await Promise.all(running.map((f) => f.done))
    options.signal?.removeEventListener('abort', cut)
    for (const end of [...this.sessions.values()]) end()
  }

  private serve(stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString()
    const controller = new AbortController()
    let release = () => {}
    const done = this.handle(stream, peer, controller, (r) => {
      release = r
    })
      .catch((err: unknown) => {
        log.error('invoke stream from %s: %o', peer, err)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
      .finally(() => release())
    this.track(done, () => controller.abort())
  }

  private async handle(
    stream: Stream,
    peer: string,
    controller: AbortController,
    hold: (release: () => void) => void,
  ): Promise<void> {
    const lp = lpStream(stream, {
      maxDataLength: Math.max(this.maxHeaderBytes, this.maxInputBytes),
      // Room for what the muxer delivers in one burst (yamux's initial stream window is 256 KiB) past
      // the largest request: an oversize input is refused once its header is read, and that answer
      // must go out before the read buffer overflows and resets the stream.
      maxBufferSize: this.maxHeaderBytes + this.maxInputBytes + BURST_BYTES,
    })
    const reply = async (answer: Answer) => {
      const frames = [encodeJson(answer.header)]
      if (answer.body !== undefined) frames.push(answer.body)
      // A caller that stops reading cannot hold the stream (and its slot) open: the answer has as
      // long to drain as the request had to arrive.
      const timer = new AbortController()
      const cancelTimer = scheduleOn(this.clock, () => timer.abort(), this.requestTimeoutMs)
      try {
        await lp.writeV(frames, { signal: timer.signal })
        await stream.close({ signal: timer.signal })
      } catch (err) {
        // The caller went away (reset, closed connection) or stopped reading: no one is left to answer.
        log('could not answer %s: %s', peer, (err as Error).message)
        stream.abort(err instanceof Error ? err : new Error('the answer timed out'))
      } finally {
        cancelTimer()
      }
    }
    const admitted = this.admit(peer)
    if (admitted instanceof MeshError) return reply(this.refusal(peer, admitted))
    hold(admitted)

    // The caller resetting or dropping the stream (or stop() cutting short) cancels the call.
    let answered = false
    const onClose = () => {
      if (!answered) controller.abort()
    }
    stream.addEventListener('close', onClose, { once: true })
    try {
      const request = await this.readRequest(lp, stream, peer, controller.signal)
      if (request instanceof MeshError) return reply(this.refusal(peer, request))
      if (request === undefined) return
      const answer = await this.execute(peer, request, controller.signal, () => stream.status !== 'open')
      answered = true
      if (answer !== undefined) await reply(answer)
    } finally {
      answered = true
      stream.removeEventListener('close', onClose)
    }
  }

  /**
   * Admits one call from `peer` (not stopping, under its rate, under the node's and the peer's
   * concurrency): the refusal, or the release of the peer's slot.
   */
  admit(peer: string): MeshError | (() => void) {
    if (this.stopped) return new InvokeBusyError(peer, 'stopping', 0)
    const wait = this.limit.take(peer)
    if (wait > 0) return new InvokeRateLimitedError(peer, this.limit.perSecond, this.limit.burst, wait)
    if (this.inFlight.size >= this.maxConcurrent) return new InvokeBusyError(peer, 'node', this.maxConcurrent)
    const mine = this.perPeer.get(peer) ?? 0
    if (mine >= this.maxPerPeer) return new InvokeBusyError(peer, 'peer', this.maxPerPeer)
    this.perPeer.set(peer, mine + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.perPeer.get(peer) ?? 1) - 1
      if (n <= 0) this.perPeer.delete(peer)
      else this.perPeer.set(peer, n)
    }
  }

  /** Tracks a call so `stop()` waits for it (or cuts it short through `abort`). */
  track(done: Promise<void>, abort: () => void): void {
    const entry: InFlight = { done: done.finally(() => this.inFlight.delete(entry)), abort }
    this.inFlight.add(entry)
  }

  /** The answer refusing a call (reported as a `peer:invoke` event). */
  refusal(peer: string, err: MeshError, fn?: string, invocation?: string, ran?: boolean): Answer {
    const header = failure(err, invocation, ran)
    this.report(peer, header.ok === false && header.ran ? 'failed' : 'refused', fn, err.code, invocation)
    return { header }
  }

  /**
   * Runs a checked request under `mesh.call` with the host's governance: the answer, or undefined
   * when the caller went away meanwhile (`gone`) and no one is left to answer.
   */
  async execute(
    peer: string,
    request: CheckedRequest,
    signal: AbortSignal,
    gone: () => boolean,
  ): Promise<Answer | undefined> {
    const { header, input, name, version } = request
    const fn = header.fn
    if (header.timeoutMs === 0)
      return this.refusal(
        peer,
        new DeadlineExceededError(fn, 0, [], 'the caller (no time left)'),
        fn,
        undefined,
        false,
      )
    let result: Awaited<ReturnType<HostMesh['call']>>
    try {
      result = await this.mesh.call(fn, input, {
        signal,
        timeoutMs: Math.max(1, Math.min(header.timeoutMs ?? this.maxTimeoutMs, this.maxTimeoutMs)),
        traceparent: header.traceparent,
        principal: (this.options.principal ?? defaultPrincipal)(peer, header.principal),
        callerInvocation: header.invocation,
        context: this.localOnly(name),
        ...(header.idempotencyKey === undefined ? {} : { idempotencyKey: header.idempotencyKey }),
      })
    } catch (err) {
      if (signal.aborted && gone()) return undefined
      const e = isMeshError(err) ? err : new PeerHostError((err as Error)?.message ?? String(err), err)
      return this.refusal(peer, e, fn, e instanceof InvocationFailedError ? e.invocationId : undefined)
    }
    let body: Uint8Array
    try {
      body = new TextEncoder().encode(canonicalJson(result.output))
    } catch (err) {
      return this.refusal(peer, new PeerHostError('the output is not JSON', err), fn, result.invocationId)
    }
    if (body.byteLength > header.maxResponseBytes)
      return this.refusal(
        peer,
        new PeerResponseTooLargeError(`${name}@${version}`, body.byteLength, header.maxResponseBytes),
        fn,
        result.invocationId,
      )
    this.report(peer, 'ok', fn, undefined, result.invocationId)
    return {
      header: {
        v: 1,
        ok: true,
        invocation: result.invocationId,
        quantity: result.charge.quantity.toString(),
        replayed: result.replayed,
        outputBytes: body.byteLength,
      },
      body,
    }
  }

  private report(
    peer: string,
    outcome: 'ok' | 'refused' | 'failed',
    fn: string | undefined,
    code?: string,
    invocation?: string,
  ): void {
    const events = this.mesh.events
    if (events === undefined || !events.has('service')) return
    events.emit('service', {
      type: 'peer:invoke',
      outcome,
      from: peer,
      ...(fn === undefined ? {} : { name: fn }),
      ...(code === undefined ? {} : { code }),
      ...(invocation === undefined ? {} : { invocation }),
    })
  }

  /** Reads and checks the request; a MeshError to send back, or `undefined` when the stream died. */
  private async readRequest(
    lp: ReturnType<typeof lpStream>,
    stream: Stream,
    peer: string,
    cancel: AbortSignal,
  ): Promise<CheckedRequest | MeshError | undefined> {
    const timer = new AbortController()
    const cancelTimer = scheduleOn(this.clock, () => timer.abort(), this.requestTimeoutMs)
    const signal = AbortSignal.any([timer.signal, cancel])
    let header: RequestHeader
    let inputFrame: Uint8Array
    try {
      const headerFrame = await lp.read({ signal })
      const checked = this.checks.header(headerFrame, peer, RequestHeaderSchema)
      if (checked instanceof MeshError) return checked
      header = checked
      inputFrame = (await lp.read({ signal })).subarray()
    } catch (err) {
      if (stream.status !== 'open' || cancel.aborted) return undefined
      if (timer.signal.aborted) return new PeerRequestTimeoutError(peer, this.requestTimeoutMs)
      return this.checks.frameError(peer, err)
    } finally {
      cancelTimer()
    }
    return this.checks.request(peer, header, inputFrame)
  }

  /** A security context that reaches only this node's in-process provider of one function. */
  private localOnly(name: string): SecurityContext {
    let context = this.contexts.get(name)
    if (context === undefined) {
      context = securityContext({
        level: 'controlled',
        allowedFunctions: [name],
        allowedProviders: [],
        allowLocal: true,
        maxRisk: 'irreversible',
        grantedPermissions: ['*'],
      })
      if (this.contexts.size >= 1024) this.contexts.clear()
      this.contexts.set(name, context)
    }
    return context
  }
}

function defaultPrincipal(peer: string, claimed: string): string {
  return `${claimed}@${peer}`
}
