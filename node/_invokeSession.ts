import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { ProviderFailedError, ProviderResponseError } from '../src/errors/invoke.js'
import type { Provider } from '../src/record/schema.js'
import type { TransportResponse } from '../src/transport/types.js'
import {
  decodeJson,
  encodeJson,
  firstIssue,
  type RequestHeader,
  type ResponseHeader,
  SessionResponseSchema,
} from './_invokeWire.js'
import { PeerCallFailedError } from './invokeErrors.js'

/** Calls one keep-alive stream carries at once (cancelled ones count until the host answers them). */
export const MAX_SESSION_CALLS = 64
/**
 * Largest input sent on a keep-alive stream; larger ones go one per stream, where a host that
 * refuses an oversize input can answer and drop the stream without losing other calls.
 */
export const MAX_SESSION_INPUT_BYTES = 64 * 1024
/** Largest output a call on a keep-alive stream may allow; calls allowing more go one per stream. */
export const MAX_SESSION_RESPONSE_BYTES = 16 * 1024 * 1024
/**
 * How long the caller keeps an idle keep-alive stream: shorter than the host's idle timeout, so it
 * is the caller that closes it, never a host closing under a request on its way.
 */
export const SESSION_IDLE_MS = 30_000
const MAX_LENGTH_LENGTH = 5

interface Waiter {
  readonly provider: Pick<Provider, 'id' | 'endpoint'>
  readonly limit: number
  /** Undefined once the caller gave up: the answer is still read (the stream stays in step), then dropped. */
  settle: { resolve(response: TransportResponse): void; reject(err: unknown): void } | undefined
}

/**
 * The caller's half of one `/fmesh/invoke/1.1.0` stream: many calls, each with its own id, their
 * answers read in the order the host sends them. A call whose signal fires sends a cancel frame.
 * When the stream fails, every call on it fails as a lost stream would (it may have run) and the
 * session is gone: `Libp2pCaller` opens a new one for the next call.
 */
export class InvokeSession {
  private readonly pending = new Map<number, Waiter>()
  private readonly opts: { maxDataLength: number; maxLengthLength: number; maxBufferSize: number }
  private readonly lp: ReturnType<typeof lpStream>
  private nextId = 1
  private writing: Promise<void> = Promise.resolve()
  private idle: ReturnType<typeof setTimeout> | undefined
  private failed = false

  constructor(
    private readonly stream: Stream,
    private readonly maxHeaderBytes: number,
    private readonly onEnd: () => void,
  ) {
    this.opts = {
      maxDataLength: maxHeaderBytes,
      maxLengthLength: MAX_LENGTH_LENGTH,
      maxBufferSize: 2 * MAX_SESSION_RESPONSE_BYTES + maxHeaderBytes,
    }
    // `lpStream` reads `maxDataLength` from these options at every read: each output frame is held
    // to the limit of the call it answers.
    this.lp = lpStream(stream, this.opts)
    this.armIdle()
    void this.readLoop()
  }

  /** Whether another call may go on this stream now. */
  get usable(): boolean {
    return !this.failed && this.stream.status === 'open' && this.pending.size < MAX_SESSION_CALLS
  }

  call(
    provider: Pick<Provider, 'id' | 'endpoint'>,
    header: RequestHeader,
    input: Uint8Array,
    signal: AbortSignal,
  ): Promise<TransportResponse> {
    const id = this.nextId++
    this.disarmIdle()
    return new Promise<TransportResponse>((resolve, reject) => {
      const waiter: Waiter = { provider, limit: header.maxResponseBytes, settle: { resolve, reject } }
      this.pending.set(id, waiter)
      const onAbort = () => {
        if (waiter.settle === undefined) return
        waiter.settle = undefined
        reject(signal.reason)
        this.write([encodeJson({ v: 1, cancel: id })])
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const settle = waiter.settle!
      waiter.settle = {
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort)
          settle.resolve(r)
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort)
          settle.reject(e)
        },
      }
      this.write([encodeJson({ ...header, id }), input])
    })
  }

  /** Closes the stream when no call is in flight (the caller's idle timeout, or the transport closing). */
  close(): void {
    if (this.failed) return
    this.failed = true
    this.disarmIdle()
    this.onEnd()
    void this.stream.close().catch(() => this.stream.abort(new Error('closing')))
  }

  private write(frames: Uint8Array[]): void {
    this.writing = this.writing.then(() => this.lp.writeV(frames).catch((err: unknown) => this.fail(err)))
  }

  private async readLoop(): Promise<void> {
    try {
      while (!this.failed) {
        this.opts.maxDataLength = this.maxHeaderBytes
        const frame = await this.lp.read()
        let raw: unknown
        try {
          raw = decodeJson(frame.subarray())
        } catch (err) {
          throw this.bad('the response header is not UTF-8 JSON', err)
        }
        const parsed = SessionResponseSchema.safeParse(raw)
        if (!parsed.success) {
          const [field, rule] = firstIssue(parsed.error)
          throw this.bad(`the response header's ${field} ${rule}`)
        }
        const answer = parsed.data
        const waiter = this.pending.get(answer.id)
        if (waiter === undefined)
          throw this.bad(`the host answered call ${answer.id}, which is not in flight`)
        const { id, endpoint } = waiter.provider
        const settle = waiter.settle
        waiter.settle = undefined
        if (!answer.ok) {
          this.pending.delete(answer.id)
          settle?.reject(failedCall(waiter.provider, answer))
        } else if (answer.outputBytes > waiter.limit) {
          // The output is not read (its size is the host's to choose): the stream is out of step.
          const err = new ProviderResponseError(
            id,
            endpoint,
            `the output is ${answer.outputBytes} bytes, over the ${waiter.limit} byte limit`,
            { limit: waiter.limit },
          )
          this.pending.delete(answer.id)
          settle?.reject(err)
          throw err
        } else {
          // Still pending while its output is read: a stream lost meanwhile fails this call too.
          waiter.settle = settle
          this.opts.maxDataLength = answer.outputBytes
          const body = (await this.lp.read()).subarray()
          this.pending.delete(answer.id)
          waiter.settle = undefined
          try {
            settle?.resolve({
              output: decodeJson(body),
              quantity: BigInt(answer.quantity),
              providerInvocation: answer.invocation,
            })
          } catch (err) {
            settle?.reject(new ProviderResponseError(id, endpoint, 'the output is not UTF-8 JSON', {}, err))
          }
        }
        if (this.pending.size === 0) this.armIdle()
      }
    } catch (err) {
      this.fail(err)
    }
  }

  /** The stream is lost: every call on it fails (it may have run), and the session is gone. */
  private fail(err: unknown): void {
    if (this.failed) return
    this.failed = true
    this.disarmIdle()
    this.onEnd()
    const reason = (err as Error)?.message ?? String(err)
    for (const waiter of this.pending.values())
      waiter.settle?.reject(
        err instanceof ProviderResponseError
          ? err
          : new ProviderFailedError(
              waiter.provider.id,
              waiter.provider.endpoint,
              `the invoke stream failed after the request was sent (${reason})`,
              { retryable: true, sent: true },
              err,
            ),
      )
    this.pending.clear()
    this.stream.abort(err instanceof Error ? err : new Error(reason))
  }

  private bad(reason: string, cause?: unknown): ProviderResponseError {
    const first = this.pending.values().next().value?.provider ?? { id: '(unknown)', endpoint: '(unknown)' }
    return new ProviderResponseError(first.id, first.endpoint, reason, {}, cause)
  }

  private armIdle(): void {
    this.disarmIdle()
    this.idle = setTimeout(() => {
      if (this.pending.size === 0) this.close()
    }, SESSION_IDLE_MS)
    // An idle keep-alive stream never keeps the process alive.
    this.idle.unref?.()
  }

  private disarmIdle(): void {
    if (this.idle !== undefined) clearTimeout(this.idle)
    this.idle = undefined
  }
}

/** The caller's error for a host's failure answer (on either protocol version). */
export function failedCall(
  provider: Pick<Provider, 'id' | 'endpoint'>,
  answer: Extract<ResponseHeader, { ok: false }>,
): PeerCallFailedError {
  return new PeerCallFailedError(
    provider.id,
    provider.endpoint,
    { code: answer.error.code, message: answer.error.shortMessage, invocation: answer.invocation },
    { sent: answer.ran, retryable: answer.retryable },
  )
}
