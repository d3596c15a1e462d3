import type { LocalFunctionDescriptor, Marketplace } from '../marketplace/Marketplace.js'
import type { GovernedCallContext } from '../transport/localTransport.js'

/** A governed local function: its descriptor and handler, ready to register. */
export interface GovernedFunction<I, O> {
  readonly descriptor: LocalFunctionDescriptor
  readonly handler: (input: I, context: GovernedCallContext) => O | Promise<O>
  /** Registers it in a marketplace (`mesh.marketplace`); returns the unregister function. */
  register(marketplace: Marketplace): () => void
}

/**
 * Declares an in-process function with its governance: schemas, risk, idempotency class, duration
 * limit, trigger events and cost. The handler gets a context with the deadline signal, the
 * idempotency key, the trace, and `reportQuantity` to bill more than one unit.
 *
 * @example
 * ```ts
 * const upper = governedFunction(
 *   {
 *     name: 'acme.com/text/upper', version: '1.0.0', idempotency: 'idempotent', maxRisk: 'read-only',
 *     inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
 *     cost: { unit: 'USDC', baseUnits: '10' },
 *   },
 *   (input: { text: string }) => ({ text: input.text.toUpperCase() }),
 * )
 * upper.register(mesh.marketplace)
 * ```
 */
export function governedFunction<I, O>(
  descriptor: LocalFunctionDescriptor,
  handler: (input: I, context: GovernedCallContext) => O | Promise<O>,
): GovernedFunction<I, O> {
  return {
    descriptor,
    handler,
    register: (marketplace) =>
      marketplace.register(descriptor, handler as (input: I, context: unknown) => O | Promise<O>),
  }
}

/** Same as {@link governedFunction}. */
export const defineFunction = governedFunction
