import { MeshError } from '../errors/base.js'
import { ProviderFailedError, ProviderUnreachableError } from '../errors/invoke.js'
import type { LocalCallContext, Marketplace } from '../marketplace/Marketplace.js'
import type { Transport, TransportRequest, TransportResponse } from './types.js'

/** What a governed local handler receives besides its input. */
export interface GovernedCallContext extends LocalCallContext {
  readonly invocationId: string
  readonly attempt: number
  readonly name: string
  readonly version: string
  /** Bills `quantity` units of the provider's cost for this call instead of 1. */
  reportQuantity(quantity: bigint | number): void
}

const PREFIX = 'local:'

/**
 * Calls handlers registered in this process's marketplace (`local:name@version` endpoints). A
 * handler that ignores its signal keeps running after the deadline, but its result is dropped.
 *
 * @example
 * ```ts
 * const transport = localTransport(mesh.marketplace)
 * ```
 */
export function localTransport(marketplace: Marketplace): Transport {
  return {
    name: 'local',
    handles: (endpoint) => endpoint.startsWith(PREFIX),
    call: (request) => callLocal(marketplace, request),
  }
}

/**
 * What a local handler receives. A class with `signal` read lazily through a getter (the invoker
 * makes the call's AbortController only when someone asks for it): an object literal with a getter
 * and a method costs several times more to make per call.
 */
class LocalContext implements GovernedCallContext {
  readonly deadline?: number
  readonly idempotencyKey?: string
  readonly traceparent: string
  readonly principal: string
  readonly invocationId: string
  readonly attempt: number
  readonly name: string
  readonly version: string
  #quantity: bigint | undefined

  constructor(private readonly request: TransportRequest) {
    if (request.deadline !== undefined) this.deadline = request.deadline
    if (request.idempotencyKey !== undefined) this.idempotencyKey = request.idempotencyKey
    this.traceparent = request.traceparent
    this.principal = request.principal
    this.invocationId = request.invocationId
    this.attempt = request.attempt
    this.name = request.name
    this.version = request.version
  }

  get signal(): AbortSignal {
    return this.request.signal
  }

  reportQuantity(q: bigint | number): void {
    const value = typeof q === 'bigint' ? q : Number.isSafeInteger(q) ? BigInt(q) : undefined
    if (value === undefined || value < 0n)
      throw new MeshError(
        'E_QUANTITY_INVALID',
        `reportQuantity needs a non-negative integer, got ${String(q)}`,
        {
          hint: 'Report whole units of the provider cost as a bigint or a safe integer.',
        },
      )
    this.#quantity = value
  }

  /** What the handler reported through {@link reportQuantity}. */
  get reported(): bigint | undefined {
    return this.#quantity
  }
}

function callLocal(marketplace: Marketplace, request: TransportRequest): Promise<TransportResponse> {
  const { provider } = request
  const target = provider.endpoint.slice(PREFIX.length)
  const at = target.lastIndexOf('@')
  const fn = at > 0 ? marketplace.get(target.slice(0, at), target.slice(at + 1)) : undefined
  if (fn === undefined)
    return Promise.reject(
      new ProviderUnreachableError(
        provider.id,
        provider.endpoint,
        'no handler is registered for it in this process',
      ),
    )
  const context = new LocalContext(request)
  const fail = (err: unknown) =>
    new ProviderFailedError(
      provider.id,
      provider.endpoint,
      err instanceof MeshError
        ? `${err.code}: ${err.shortMessage}`
        : err instanceof Error
          ? err.message
          : String(err),
      { retryable: true },
      err,
    )
  let result: unknown
  try {
    result = fn.handler(request.input, context)
  } catch (err) {
    return Promise.reject(request.signal.aborted ? err : fail(err))
  }
  if (!(result instanceof Promise)) {
    const quantity = context.reported
    return Promise.resolve(quantity === undefined ? { output: result } : { output: result, quantity })
  }
  const { signal } = request
  return new Promise<TransportResponse>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    result.then(
      (output: unknown) => {
        signal.removeEventListener('abort', onAbort)
        const quantity = context.reported
        resolve(quantity === undefined ? { output } : { output, quantity })
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(signal.aborted ? err : fail(err))
      },
    )
  })
}
