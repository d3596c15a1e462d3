import { type CancelTimer, scheduleOn } from '../clock.js'
import { MeshError } from '../errors/base.js'
import {
  DeadlineExceededError,
  NoProviderError,
  ProviderCallError,
  ProviderResponseError,
  ProviderTimeoutError,
} from '../errors/invoke.js'
import { AbortedError } from '../errors/resolve.js'
import type { Provider } from '../record/schema.js'
import type { Transport } from '../transport/types.js'
import { CALLER, type CallSignal, DEADLINE } from './_callSignal.js'
import type { RetryBudget } from './RetryBudget.js'
import type { CallOptions, Choice } from './types.js'

/** Ceiling of the wait between attempts. @default 250 */
export const BACKOFF_MAX_MS = 250
/** First wait between attempts, doubled each time. @default 10 */
export const BACKOFF_BASE_MS = 10

// The attempt policy of a governed call: which providers to try, what a failure means, whether to
// try again, how long to wait, and what the call's deadline is.

/** The providers this mesh can reach, each with its transport and cost, in the chosen order. */
export function planAttempts(
  choice: Choice,
  transports: readonly Transport[],
): { provider: Provider; transport: Transport; cost: bigint }[] {
  const plan: { provider: Provider; transport: Transport; cost: bigint }[] = []
  for (const provider of choice.providers) {
    const transport = transports.find((t) => t.handles(provider.endpoint))
    if (transport !== undefined)
      plan.push({
        provider,
        transport,
        cost: provider.cost === undefined ? 0n : BigInt(provider.cost.baseUnits),
      })
  }
  if (plan.length === 0)
    throw new NoProviderError(
      choice.name,
      choice.version,
      choice.providers.map((p) => p.endpoint),
    )
  return plan
}

/** The MeshError an attempt's failure stands for. */
export function classifyFailure(
  err: unknown,
  controller: CallSignal,
  attempt: AbortController | undefined,
  provider: Provider,
  options: CallOptions,
  name: string,
  budgetMs: number,
  summary: string[],
  source: string,
): MeshError {
  if (controller.aborted) return stopError(controller, name, budgetMs, summary, source)
  if (attempt?.signal.aborted)
    return new ProviderTimeoutError(provider.id, provider.endpoint, options.attemptTimeoutMs!)
  if (err instanceof MeshError) return err
  return new ProviderResponseError(
    provider.id,
    provider.endpoint,
    (err as Error)?.message ?? String(err),
    {},
    err,
  )
}

/** Why the whole call stopped: the caller aborted, or the deadline passed. */
export function stopError(
  controller: CallSignal,
  name: string,
  budgetMs: number,
  summary: string[],
  source: string,
): MeshError {
  if (controller.reason === CALLER) return new AbortedError(`call ${name}`)
  return new DeadlineExceededError(name, budgetMs, [...summary], source)
}

/** Why the call stops after this failure; `undefined` to try again. */
export function stopReason(
  budget: RetryBudget,
  failure: MeshError,
  attempt: number,
  maxAttempts: number,
  idempotency: string,
  options: CallOptions,
  controller: CallSignal,
): string | undefined {
  if (!(failure instanceof ProviderCallError)) return failure.code
  if (!failure.retryable) return 'the provider refused the call (not retryable)'
  if (attempt >= maxAttempts) return `maxAttempts (${maxAttempts}) reached`
  if (failure.sent) {
    if (idempotency === 'exactly-once') return 'exactly-once: the request may have reached the provider'
    if (idempotency === 'at-least-once' && options.retryUnsafe !== true)
      return 'at-least-once: the request may have reached the provider (pass retryUnsafe to allow a retry)'
  }
  if (controller.reason === DEADLINE) return 'the deadline passed'
  if (!budget.tryRetry()) return 'the retry budget is spent (too many retries across the mesh)'
  return undefined
}

/**
 * Waits before the next attempt on the call's clock: exponential with jitter, never past the
 * deadline or an abort.
 */
export function backoff(random: () => number, attempt: number, controller: CallSignal): Promise<void> {
  const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + random() / 2)
  const { clock, signal } = controller
  const wait = Math.max(0, Math.min(ms, controller.deadline - clock.now()))
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    let cancel: CancelTimer | undefined
    const done = () => {
      cancel?.()
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    cancel = scheduleOn(clock, done, wait)
  })
}

export function deadlineOf(
  timeoutMs: number | undefined,
  maxDurationMs: number | undefined,
  fallback: number,
): { budgetMs: number; source: string } {
  if (timeoutMs !== undefined && (maxDurationMs === undefined || timeoutMs <= maxDurationMs))
    return { budgetMs: timeoutMs, source: 'timeoutMs' }
  if (maxDurationMs !== undefined) return { budgetMs: maxDurationMs, source: 'descriptor maxDurationMs' }
  return { budgetMs: fallback, source: 'default timeout' }
}

export function errorFacts(err: unknown): { code: string; message: string } {
  if (err instanceof MeshError) return { code: err.code, message: err.shortMessage }
  return { code: 'E_UNKNOWN', message: err instanceof Error ? err.message : String(err) }
}

export function isLedgerFailure(err: unknown): boolean {
  return err instanceof MeshError && (err.code === 'E_LEDGER_WRITE' || err.code === 'E_LEDGER_CLOSED')
}
