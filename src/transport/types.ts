import type { Clock } from '../clock.js'
import type { Provider } from '../record/schema.js'

/** One attempt at one provider, as a transport receives it. */
export interface TransportRequest {
  /** `namespace/path`. */
  readonly name: string
  readonly version: string
  readonly provider: Provider
  /** The caller's input (already checked against the inputSchema). */
  readonly input: unknown
  /** The input's RFC 8785 canonical JSON bytes: what goes on the wire. */
  readonly inputBytes: Uint8Array
  readonly invocationId: string
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly idempotencyKey?: string | undefined
  /** W3C trace context (`00-<trace-id>-<span-id>-<flags>`) for this attempt. */
  readonly traceparent: string
  readonly principal: string
  /** Epoch ms (on `clock`) by which the whole call must finish, when there is a deadline. */
  readonly deadline?: number | undefined
  /** The mesh's clock, which `deadline` is on; for the time left and for a transport's own timers. @default systemClock */
  readonly clock?: Clock | undefined
  /** Fires on deadline, attempt timeout or caller cancellation; a transport must stop when it does. */
  readonly signal: AbortSignal
  /**
   * Calls `fn` once when `signal` fires (at once when it has) and returns what takes it off again;
   * the invoker's requests have it, and answer it without making an `AbortSignal` (for a transport
   * with a controller of its own per request, such as MCP). Absent on requests made by hand.
   */
  onAbort?(fn: () => void): () => void
  /** Largest response body accepted. */
  readonly maxResponseBytes: number
}

/** What a provider answered. The invoker validates `output` against the outputSchema. */
export interface TransportResponse {
  readonly output: unknown
  /** Units of work to bill (the provider's cost is per unit). @default 1n */
  readonly quantity?: bigint
  /** The provider's own id for this call (a remote mesh node's invocation id), recorded in FUNCTION_COMPLETED. */
  readonly providerInvocation?: string
}

/**
 * Carries calls to providers whose endpoints it handles (`local:`, `http(s)://`, and `libp2p:` by
 * the peer transport). Failures are thrown as `ProviderCallError`s that say whether the request may
 * have been delivered (`sent`) and whether retrying could help (`retryable`); an abort through
 * `signal` may be thrown as is (the invoker knows which signal fired).
 *
 * @example
 * ```ts
 * const echo: Transport = {
 *   name: 'echo',
 *   handles: (endpoint) => endpoint.startsWith('echo:'),
 *   call: async (request) => ({ output: request.input }),
 * }
 * const mesh = await createMesh({ transports: [echo] })
 * ```
 */
export interface Transport {
  readonly name: string
  handles(endpoint: string): boolean
  call(request: TransportRequest): Promise<TransportResponse>
  stop?(): Promise<void>
}
