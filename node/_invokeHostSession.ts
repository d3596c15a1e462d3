import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { type Clock, scheduleOn } from '../src/clock.js'
import { MeshError } from '../src/errors/base.js'
import { logger } from '../src/logger.js'
import type { Answer, InvokeHost } from './_invokeHost.js'
import { CancelSchema, decodeJson, encodeJson, SessionRequestSchema } from './_invokeWire.js'
import { InvokeProtocolError, PeerRequestTimeoutError } from './invokeErrors.js'

const log = logger('node:invoke')

/** How long a keep-alive stream with no call in flight stays open before the host closes it. @default 60000 */
export const DEFAULT_SESSION_IDLE_MS = 60_000

const BURST_BYTES = 512 * 1024
/** Answers waiting to be written on one stream before the host stops reading new frames from it. */
const MAX_QUEUED_ANSWERS = 64
/** A varint of up to 2^35: every frame length the limits allow. */
const MAX_LENGTH_LENGTH = 5

export interface SessionLimits {
  readonly clock: Clock
  readonly maxHeaderBytes: number
  readonly maxInputBytes: number
  readonly requestTimeoutMs: number
  readonly idleMs: number
}

/**
 * Serves one `/fmesh/invoke/1.1.0` stream from `peer`: header frames `{ ...request, id }` (then the
 * input frame) or `{ v: 1, cancel: id }`; each call runs as on `/fmesh/invoke/1.0.0` (the host's
 * admission, rate limits and governance) and its answer goes back as `{ ...response, id }` (then the
 * output frame), in the order the calls finish. What a peer can make the host hold is bounded: calls
 * in flight by the host's per-peer limit (a slot is released once the answer is written, so a peer
 * that stops reading holds at most that many answers), answers waiting to be written (refusals
 * too) by `MAX_QUEUED_ANSWERS`, past which the host reads no more frames, each frame by its size limit, a request's
 * input frame by the request timeout, a stream with nothing in flight by the idle timeout. A frame
 * that cannot be read or parsed, a duplicate id or an oversize input ends the stream (after the
 * refusal, when the call has an id): the two sides would no longer agree where frames begin.
 */
export async function serveSession(
  host: InvokeHost,
  stream: Stream,
  peer: string,
  limits: SessionLimits,
): Promise<void> {
  const opts = {
    maxDataLength: limits.maxHeaderBytes,
    maxLengthLength: MAX_LENGTH_LENGTH,
    maxBufferSize: limits.maxHeaderBytes + limits.maxInputBytes + BURST_BYTES,
  }
  // `lpStream` reads `maxDataLength` from these options at every read: each frame gets its own limit.
  const lp = lpStream(stream, opts)
  const calls = new Map<number, AbortController>()
  let closed = false
  let writing: Promise<void> = Promise.resolve()
  let queued = 0
  const send = (id: number, answer: Answer): Promise<void> => {
    const frames = [encodeJson({ ...answer.header, id })]
    if (answer.body !== undefined) frames.push(answer.body)
    queued++
    writing = writing.then(async () => {
      queued--
      if (closed) return
      const timer = new AbortController()
      const cancelTimer = scheduleOn(limits.clock, () => timer.abort(), limits.requestTimeoutMs)
      try {
        await lp.writeV(frames, { signal: timer.signal })
      } catch (err) {
        // The caller went away or stopped reading: end the stream, which cancels its other calls.
        log('could not answer %s: %s', peer, (err as Error).message)
        end(err)
      } finally {
        cancelTimer()
      }
    })
    return writing
  }
  const end = (err?: unknown) => {
    if (closed) return
    closed = true
    for (const controller of calls.values()) controller.abort()
    if (err === undefined) void stream.close().catch(() => stream.abort(new Error('closing')))
    else stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
  /** Answers a call that leaves the two sides out of step, then ends the stream. */
  const fatal = async (err: MeshError, id: number | undefined) => {
    if (id !== undefined) await send(id, host.refusal(peer, err))
    await writing
    end()
  }
  const read = async (maxBytes: number, timeoutMs: number | undefined) => {
    opts.maxDataLength = maxBytes
    if (timeoutMs === undefined) return lp.read()
    const timer = new AbortController()
    const cancelTimer = scheduleOn(limits.clock, () => timer.abort(), timeoutMs)
    try {
      return await lp.read({ signal: timer.signal })
    } catch (err) {
      if (timer.signal.aborted) throw new PeerRequestTimeoutError(peer, timeoutMs)
      throw err
    } finally {
      cancelTimer()
    }
  }
  // With calls in flight the caller may rightly say nothing for as long as they run; with none, the
  // stream (and any frame begun on it) has the idle timeout to go on.
  let cancelIdle: (() => void) | undefined
  const armIdle = () => {
    cancelIdle?.()
    cancelIdle = scheduleOn(limits.clock, () => end(), limits.idleMs)
  }
  const disarmIdle = () => {
    cancelIdle?.()
    cancelIdle = undefined
  }
  armIdle()
  const unregister = host.session(stream, () => end())
  try {
    while (!closed) {
      // A peer that sends requests without reading the answers (refusals hold no call slot) waits
      // for them to drain, each under the write timeout, before the host reads more of its frames.
      if (queued >= MAX_QUEUED_ANSWERS) await writing
      let frame: { byteLength: number; subarray(): Uint8Array }
      try {
        frame = await read(limits.maxHeaderBytes, undefined)
      } catch (err) {
        if (stream.status !== 'open' || closed) break
        return await fatal(host.checks.frameError(peer, err), undefined)
      }
      disarmIdle()
      let raw: unknown
      try {
        raw = decodeJson(frame.subarray())
      } catch (err) {
        return await fatal(new InvokeProtocolError(peer, '(header)', 'is not UTF-8 JSON', err), undefined)
      }
      if (raw !== null && typeof raw === 'object' && 'cancel' in raw) {
        const cancel = CancelSchema.safeParse(raw)
        if (!cancel.success)
          return await fatal(new InvokeProtocolError(peer, 'cancel', 'must be a call id'), undefined)
        calls.get(cancel.data.cancel)?.abort()
        if (calls.size === 0) armIdle()
        continue
      }
      const idOf = (raw as { id?: unknown } | null)?.id
      const id = Number.isSafeInteger(idOf) && (idOf as number) >= 1 ? (idOf as number) : undefined
      const header = host.checks.header(frame, peer, SessionRequestSchema)
      if (header instanceof MeshError) return await fatal(header, id)
      if (calls.has(header.id))
        return await fatal(
          new InvokeProtocolError(peer, 'id', `${header.id} is already in flight`),
          undefined,
        )
      let input: Uint8Array
      try {
        input = (await read(header.inputBytes, limits.requestTimeoutMs)).subarray()
      } catch (err) {
        if (stream.status !== 'open' || closed) break
        return await fatal(err instanceof MeshError ? err : host.checks.frameError(peer, err), header.id)
      }
      const checked = host.checks.request(peer, header, input)
      if (checked instanceof MeshError) {
        void send(header.id, host.refusal(peer, checked, header.fn))
        if (calls.size === 0) armIdle()
        continue
      }
      const release = host.admit(peer)
      if (release instanceof MeshError) {
        void send(header.id, host.refusal(peer, release, header.fn))
        if (calls.size === 0) armIdle()
        continue
      }
      const controller = new AbortController()
      calls.set(header.id, controller)
      const run = host
        .execute(peer, checked, controller.signal, () => closed)
        .then((answer) => (answer === undefined ? undefined : send(header.id, answer)))
        .catch((err: unknown) => log.error('invoke call from %s: %o', peer, err))
        .finally(() => {
          calls.delete(header.id)
          release()
          if (calls.size === 0 && !closed) armIdle()
        })
      host.track(run, () => controller.abort())
    }
  } finally {
    disarmIdle()
    unregister()
    // The stream ended (the caller closed it, reset it, or went idle): its calls are cancelled.
    end()
  }
}
