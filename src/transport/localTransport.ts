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
  let quantity: bigint | undefined
  const context: GovernedCallContext = {
    // Read lazily: the invoker makes the call's AbortController only when someone asks for it.
    get signal() {
      return request.signal
    },
    ...(request.deadline === undefined ? {} : { deadline: request.deadline }),
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
    traceparent: request.traceparent,
    principal: request.principal,
    invocationId: request.invocationId,
    attempt: request.attempt,
    name: request.name,
    version: request.version,
    reportQuantity(q) {
      const value = typeof q === 'bigint' ? q : Number.isSafeInteger(q) ? BigInt(q) : undefined
      if (value === undefined || value < 0n)
        throw new MeshError(
          'E_QUANTITY_INVALID',
          `reportQuantity needs a non-negative integer, got ${String(q)}`,
          {
            hint: 'Report whole units of the provider cost as a bigint or a safe integer.',
          },
        )
      quantity = value
    },
  }
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
        resolve(quantity === undefined ? { output } : { output, quantity })
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(signal.aborted ? err : fail(err))
      },
    )
  })
}
