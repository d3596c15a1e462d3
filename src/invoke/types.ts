import type { Clock } from '../clock.js'
import type { Ledger } from '../ledger/Ledger.js'
import type { Charge } from '../ledger/types.js'
import type { Descriptor, Provider } from '../record/schema.js'
import type { SecurityContext, SecurityContextInit } from '../security/SecurityContext.js'
import type { SelectOptions } from '../select/types.js'
import type { Transport } from '../transport/types.js'
import type { RetryBudgetOptions } from './RetryBudget.js'

/** Options of `mesh.call`. Every field is optional. */
export interface CallOptions {
  signal?: AbortSignal
  /** Deadline for the whole call, all attempts included; capped by the descriptor's `maxDurationMs`. */
  timeoutMs?: number
  /** Time limit for one attempt, so a hanging provider leaves time to fail over. @default the whole deadline */
  attemptTimeoutMs?: number
  /** Required for `exactly-once` functions. The same key (per principal) returns the first call's result. */
  idempotencyKey?: string
  /** Who is calling: idempotency keys, usage and lineage are kept per principal. @default the mesh's */
  principal?: string
  /** A lease id: the call must be among its capabilities and its cost is reserved from its budget. */
  lease?: string
  /** Most units of work the provider may bill (the reservation is cost x maxQuantity). @default 1n */
  maxQuantity?: bigint
  /** Most attempts (first try, retries and failovers). @default 3 */
  maxAttempts?: number
  /**
   * Consent to retry an `at-least-once` call after the request may have reached a provider (a
   * duplicate is then possible). Never applies to `exactly-once`. @default false
   */
  retryUnsafe?: boolean
  /** The caller's W3C trace context; each attempt gets a child span. */
  traceparent?: string
  /** The caller's security context: providers it does not allow are never called. */
  context?: SecurityContext | SecurityContextInit
  /** Selection for this call: strategy, maxCost, a random source, resolve options. */
  select?: SelectOptions
  /** Set by `mesh.dispatch`: the trigger that started this call. */
  trigger?: { kind: string; eventCid: string }
  /**
   * Set by a node serving a remote caller (the peer node's invoke protocol): the caller's invocation
   * id, recorded in this call's FUNCTION_INVOKED entries so both lineages name the same call.
   */
  callerInvocation?: string
}

/** The lineage a call left behind. */
export interface CallLineage {
  /** The FUNCTION_INVOKED entry of the successful attempt. */
  readonly invoked: string
  /** Its FUNCTION_COMPLETED entry (the one the charge references). */
  readonly completed: string
  /** Every entry of every attempt, in log order. */
  readonly entries: readonly string[]
}

/** What `mesh.call` returns. */
export interface CallResult<O = unknown> {
  readonly output: O
  readonly provider: Provider
  readonly version: string
  readonly invocationId: string
  readonly lineage: CallLineage
  readonly charge: Charge
  readonly attempts: number
  /** True when the result was stored by an earlier call with the same idempotency key. */
  readonly replayed: boolean
}

/** One function's part in a trigger dispatch. */
export type DispatchResult =
  | { readonly name: string; readonly version: string; readonly ok: true; readonly result: CallResult }
  | { readonly name: string; readonly version: string; readonly ok: false; readonly error: Error }

/** What selection hands the invoker: a version and the providers to try, best first. */
export interface Choice {
  readonly name: string
  readonly version: string
  readonly descriptor: Descriptor
  /** CID of the record (or `local:name@version`). */
  readonly recordId: string
  /** The chosen provider first, then failover candidates in preference order. */
  readonly providers: readonly Provider[]
  readonly reason: string
}

/** How outcomes reach provider health (issue 3's `HealthTracker` fits as is). */
export interface HealthHook {
  begin(provider: Pick<Provider, 'id' | 'endpoint'>): {
    success(latencyMs?: number): unknown
    failure(latencyMs?: number, kind?: 'error' | 'timeout' | 'unavailable' | 'bad-response'): unknown
    cancel(): unknown
  }
}

/** What `createInvoker` needs from the mesh. */
export interface InvokerDeps {
  /** The ledger, opened on first use. */
  ledger(): Promise<Ledger>
  choose(name: string, options: CallOptions): Promise<Choice>
  transports: readonly Transport[]
  health?: HealthHook | undefined
  clock?: Clock | undefined
  /** Uniform in [0, 1), for backoff jitter. @default Math.random */
  random?: (() => number) | undefined
  /** @default 'local' */
  principal?: string | undefined
  retryBudget?: RetryBudgetOptions | undefined
  /** @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number | undefined
  /** Deadline when neither the call nor the descriptor sets one. @default DEFAULT_CALL_TIMEOUT_MS */
  defaultTimeoutMs?: number | undefined
}
