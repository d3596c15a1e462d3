import type { Clock } from '../clock.js'
import type { Provider } from '../record/schema.js'
import type { TransportRequest } from '../transport/types.js'
import type { CallSignal } from './_callSignal.js'
import { randomHex } from './_randomHex.js'

let idMs = -1
let idMsHex = ''

/**
 * A new invocation id: `inv_`, `now` (epoch ms on the mesh's clock) as 12 hex digits (time-ordered,
 * so the ledger's invocation index grows at its end instead of at random pages), then 80 random bits.
 */
export function newInvocationId(now: number): string {
  if (now !== idMs) {
    idMs = now
    idMsHex = now.toString(16).padStart(12, '0')
  }
  return `inv_${idMsHex}${randomHex(10)}`
}

/**
 * One attempt as a transport receives it. `signal` and `inputBytes` are made on first read (a
 * synchronous local handler that never looks costs no AbortController and no encoding); a class,
 * because an object literal with a getter costs ~0.3 us to make in V8 12.
 */
export class AttemptRequest implements TransportRequest {
  constructor(
    readonly name: string,
    readonly version: string,
    readonly provider: Provider,
    readonly input: unknown,
    /** The input's canonical JSON text; `inputBytes` encodes it on first read. */
    private readonly inputText: string,
    readonly invocationId: string,
    readonly attempt: number,
    readonly idempotencyKey: string | undefined,
    readonly traceparent: string,
    readonly principal: string,
    readonly deadline: number,
    readonly maxResponseBytes: number,
    private readonly call: CallSignal,
    private readonly attemptSignal: AbortSignal | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.attemptSignal ?? this.call.signal
  }

  onAbort(fn: () => void): () => void {
    const attemptSignal = this.attemptSignal
    if (attemptSignal === undefined) return this.call.onStop(fn)
    if (attemptSignal.aborted) {
      fn()
      return noop
    }
    attemptSignal.addEventListener('abort', fn, { once: true })
    return () => attemptSignal.removeEventListener('abort', fn)
  }

  /** The clock `deadline` is on. */
  get clock(): Clock {
    return this.call.clock
  }

  #inputBytes: Uint8Array | undefined

  /** Made on first read: an in-process handler takes `input` and never needs the bytes. */
  get inputBytes(): Uint8Array {
    this.#inputBytes ??= encoder.encode(this.inputText)
    return this.#inputBytes
  }
}

const encoder = new TextEncoder()

function noop(): void {}
