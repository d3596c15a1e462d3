import { type CancelTimer, type Clock, scheduleOn, systemClock } from '../clock.js'
import { canonicalJson } from '../encoding/canonicalJson.js'
import { jsonCid } from '../encoding/jsonCid.js'
import type { MeshError } from '../errors/base.js'
import {
  IdempotencyKeyRequiredError,
  IdempotencyOutcomeUnknownError,
  InputInvalidError,
  InvocationFailedError,
  ProviderCallError,
  ProviderResponseError,
} from '../errors/invoke.js'
import { AbortedError } from '../errors/resolve.js'
import type { Reservation } from '../ledger/LeaseBook.js'
import type { Ledger } from '../ledger/Ledger.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/httpTransport.js'
import { AttemptRequest, newInvocationId } from './_attempt.js'
import { checkCallOptions } from './_callOptions.js'
import { CALLER, CallSignal } from './_callSignal.js'
import {
  backoff,
  classifyFailure,
  deadlineOf,
  errorFacts,
  isLedgerFailure,
  planAttempts,
  stopError,
  stopReason,
} from './attemptPolicy.js'
import { checkSameCall, replayStored } from './idempotentReplay.js'
import { RetryBudget } from './RetryBudget.js'
import { SchemaCache } from './SchemaCache.js'
import { childTraceparent, traceOf } from './traceparent.js'
import type { CallOptions, CallResult, Choice, InvokerDeps } from './types.js'

/** Deadline of a call when neither the call nor the descriptor sets one. @default 30000 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000
/** Attempts per call (first try, retries and failovers). @default 3 */
export const DEFAULT_MAX_ATTEMPTS = 3
export { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './attemptPolicy.js'

/** Governed invocation: `call` and `dispatch` as the mesh exposes them. */
export interface Invoker {
  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>>
}

/**
 * Builds the governed invoker the mesh delegates `call` to: input checked against the inputSchema, a
 * deadline over all attempts, budget reserved from a lease, FUNCTION_INVOKED committed before the
 * provider is asked (with the terminal entry for an idempotent in-process call without a key), output
 * checked against the outputSchema, FUNCTION_COMPLETED and its charge committed together, and retries
 * or failover only where the idempotency class allows.
 *
 * @example
 * ```ts
 * const invoker = createInvoker({ ledger: () => ledgerPromise, choose, transports: [localTransport(marketplace)] })
 * const { output, charge } = await invoker.call('acme.com/text/upper@^1', { text: 'hi' })
 * ```
 */
export function createInvoker(deps: InvokerDeps): Invoker {
  return new GovernedInvoker(deps)
}

const encoder = new TextEncoder()

interface Flight {
  readonly function: string
  readonly inputCid: string
  readonly promise: Promise<CallResult>
}

class GovernedInvoker implements Invoker {
  private readonly schemas = new SchemaCache()
  private readonly clock: Clock
  private readonly random: () => number
  private readonly budget: RetryBudget
  private readonly flights = new Map<string, Flight>()
  private readonly principal: string
  private readonly maxResponseBytes: number
  private readonly defaultTimeoutMs: number

  constructor(private readonly deps: InvokerDeps) {
    this.clock = deps.clock ?? systemClock
    this.random = deps.random ?? Math.random
    this.budget = new RetryBudget(this.clock, deps.retryBudget)
    this.principal = deps.principal ?? 'local'
    this.maxResponseBytes = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    this.defaultTimeoutMs = deps.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  }

  async call<O>(name: string, input: unknown, options: CallOptions = {}): Promise<CallResult<O>> {
    checkCallOptions(options)
    const started = this.clock.now()
    if (options.signal?.aborted) throw new AbortedError(`call ${name}`, options.signal.reason)
    const choice = await this.deps.choose(name, options)
    const { descriptor } = choice
    const key = options.idempotencyKey
    if (descriptor.idempotency === 'exactly-once' && key === undefined)
      throw new IdempotencyKeyRequiredError(choice.name)
    this.schemas.checkInput(choice.name, choice.version, descriptor.inputSchema, input)
    let inputText: string
    try {
      inputText = canonicalJson(input)
    } catch (err) {
      throw new InputInvalidError(
        choice.name,
        choice.version,
        '(root)',
        `is not JSON (${(err as Error).message})`,
      )
    }
    const inputCid = jsonCid(inputText)
    const ledger = await this.deps.ledger()
    const principal = options.principal ?? this.principal
    if (key === undefined)
      return this.execute(ledger, choice, input, inputText, inputCid, principal, options, started) as Promise<
        CallResult<O>
      >
    const flightKey = `${principal}\u0000${key}`
    const flight = this.flights.get(flightKey)
    if (flight !== undefined) {
      checkSameCall(key, principal, flight, choice.name, inputCid)
      return flight.promise as Promise<CallResult<O>>
    }
    const stored = ledger.lookupKey(principal, key)
    if (stored !== undefined) {
      checkSameCall(key, principal, stored, choice.name, inputCid)
      if (stored.state === 'completed') return replayStored(ledger, stored) as Promise<CallResult<O>>
      const idempotency = descriptor.idempotency
      if (
        idempotency === 'exactly-once' ||
        (idempotency === 'at-least-once' && options.retryUnsafe !== true)
      ) {
        const error =
          stored.state === 'failed' ? stored.error : { code: 'E_INTERRUPTED', message: 'still pending' }
        throw new IdempotencyOutcomeUnknownError(key, choice.name, idempotency, {
          ...error,
          invocation: stored.invocation,
        })
      }
    }
    const promise = this.execute(ledger, choice, input, inputText, inputCid, principal, options, started)
    this.flights.set(flightKey, { function: choice.name, inputCid, promise })
    const clear = () => this.flights.delete(flightKey)
    promise.then(clear, clear)
    return promise as Promise<CallResult<O>>
  }

  private async execute(
    ledger: Ledger,
    choice: Choice,
    input: unknown,
    inputText: string,
    inputCid: string,
    principal: string,
    options: CallOptions,
    started: number,
  ): Promise<CallResult> {
    const { name, version, descriptor } = choice
    const plan = planAttempts(choice, this.deps.transports)
    const key = options.idempotencyKey
    const maxQuantity = options.maxQuantity ?? 1n
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    const trace = traceOf(options.traceparent)
    const invocation = newInvocationId(this.clock.now())
    const { budgetMs, source } = deadlineOf(
      options.timeoutMs,
      descriptor.maxDurationMs,
      this.defaultTimeoutMs,
    )
    const deadline = started + budgetMs
    // One stop condition per call: the deadline or the caller's abort (a signal only when asked for).
    const controller = new CallSignal(deadline, options.signal, this.clock)
    this.budget.recordCall()
    const summary: string[] = []
    const entries: string[] = []
    let claimed = false
    let sentAny = false
    const keyFinal = () =>
      key === undefined || !claimed ? undefined : { principal, key, release: !sentAny, sent: sentAny }
    try {
      for (let attempt = 1; ; attempt++) {
        const provider = plan[(attempt - 1) % plan.length]!
        const { transport } = provider
        if (controller.aborted) throw stopError(controller, name, budgetMs, summary, source)
        const currency = provider.provider.cost?.unit ?? null
        const cost = provider.cost
        let reservation: Reservation | undefined
        if (options.lease !== undefined) {
          try {
            reservation = ledger.leaseBook.reserve(options.lease, name, currency, cost * maxQuantity)
          } catch (err) {
            // Refused before this attempt started: nothing was sent for it.
            if (attempt === 1) throw err
            summary.push(`${provider.provider.id}: ${(err as MeshError).code} (not attempted)`)
            if (key !== undefined && claimed) await ledger.finishKey(keyFinal()!, errorFacts(err))
            throw new InvocationFailedError(
              name,
              invocation,
              summary,
              'the lease cannot cover the next provider',
              err as MeshError,
            )
          }
        }
        const traceparent = childTraceparent(trace)
        // FUNCTION_INVOKED is on disk before the provider is asked, except for an idempotent in-process
        // call without a key: a crash kills the handler with the caller, no result was returned, and
        // re-running it is safe by its class; its entries then commit together (one commit per call).
        // A call over a wire keeps its INVOKED on disk first, so a call still running (a provider that
        // hangs) shows as in flight to `fmesh calls` and to readers of the ledger.
        const deferred =
          key === undefined && descriptor.idempotency === 'idempotent' && transport.name === 'local'
        // The facts every entry of this attempt repeats, a fresh object per entry (the ledger
        // completes it in place). Object.assign, not an object spread: V8 12 copies a spread of
        // this shape in 3-7 us, Object.assign in ~0.15. Fields left undefined are left out.
        const providerId = provider.provider.id
        const facts = () => ({
          invocation,
          attempt,
          function: name,
          version,
          provider: providerId,
          principal,
        })
        const invokedFields: Parameters<Ledger['invoked']>[0] = Object.assign(facts(), {
          endpoint: provider.provider.endpoint,
          recordId: choice.recordId,
          reason:
            attempt === 1 ? choice.reason : `failover after ${summary[summary.length - 1] ?? 'a failure'}`,
          inputCid,
          idempotencyClass: descriptor.idempotency,
          idempotencyKey: key,
          traceparent,
          lease: options.lease,
          trigger: options.trigger,
          callerInvocation: options.callerInvocation,
        })
        const claim =
          key !== undefined && !claimed ? { principal, key, function: name, inputCid, invocation } : undefined
        const invoked = deferred
          ? ledger.invokedDeferred(invokedFields, claim)
          : await ledger.invoked(invokedFields, claim)
        claimed = claimed || key !== undefined
        entries.push(invoked.id)
        const health = this.deps.health?.begin(provider.provider)
        const t0 = performance.now()
        let attemptController: AbortController | undefined
        let cancelAttemptTimer: CancelTimer | undefined
        let attemptSignal: AbortSignal | undefined
        if (options.attemptTimeoutMs !== undefined) {
          const ac = new AbortController()
          attemptController = ac
          attemptSignal = AbortSignal.any([controller.signal, ac.signal])
          cancelAttemptTimer = scheduleOn(this.clock, () => ac.abort(), options.attemptTimeoutMs)
        }
        let failure: MeshError
        let terminal = false
        try {
          const response = await transport.call(
            new AttemptRequest(
              name,
              version,
              provider.provider,
              input,
              inputText,
              invocation,
              attempt,
              key,
              traceparent,
              principal,
              deadline,
              this.maxResponseBytes,
              controller,
              attemptSignal,
            ),
          )
          cancelAttemptTimer?.()
          if (controller.aborted) throw controller.reason
          this.schemas.checkOutput(
            name,
            version,
            provider.provider.id,
            descriptor.outputSchema,
            response.output,
          )
          let outputText: string
          try {
            outputText = canonicalJson(response.output)
          } catch (err) {
            throw new ProviderResponseError(
              provider.provider.id,
              provider.provider.endpoint,
              'the output is not JSON',
              {},
              err,
            )
          }
          const quantity = response.quantity ?? 1n
          if (reservation !== undefined && quantity > maxQuantity)
            throw new ProviderResponseError(
              provider.provider.id,
              provider.provider.endpoint,
              `it reported ${quantity} units but the call reserved ${maxQuantity}`,
              { quantity: quantity.toString(), maxQuantity: maxQuantity.toString() },
            )
          const durationMs = Math.round((performance.now() - t0) * 1000) / 1000
          // From here on this attempt has its terminal entry: it can never get a second one.
          terminal = true
          const { entry, charge } = await ledger.completed(
            invoked,
            Object.assign(facts(), {
              outputCid: jsonCid(outputText),
              durationMs,
              quantity: quantity.toString(),
              providerInvocation: response.providerInvocation,
            }),
            {
              currency,
              amount: cost * quantity,
              quantity,
              ...(reservation === undefined ? {} : { reservation }),
            },
            key === undefined ? undefined : { principal, key, output: encoder.encode(outputText) },
          )
          health?.success(durationMs)
          entries.push(entry.id)
          return {
            output: response.output,
            provider: provider.provider,
            version,
            invocationId: invocation,
            lineage: { invoked: invoked.id, completed: entry.id, entries },
            charge,
            attempts: attempt,
            replayed: false,
          }
        } catch (err) {
          cancelAttemptTimer?.()
          if (terminal || isLedgerFailure(err)) throw err
          failure = classifyFailure(
            err,
            controller,
            attemptController,
            provider.provider,
            options,
            name,
            budgetMs,
            summary,
            source,
          )
        }
        const latency = performance.now() - t0
        const sent = failure instanceof ProviderCallError ? failure.sent : true
        sentAny ||= sent
        if (health !== undefined) {
          if (controller.reason === CALLER) health.cancel()
          else if (failure instanceof ProviderCallError) health.failure(latency, failure.failure)
          else health.failure(latency, 'timeout')
        }
        summary.push(`${provider.provider.id}: ${failure.code}${sent ? '' : ' (not delivered)'}`)
        const stop = stopReason(
          this.budget,
          failure,
          attempt,
          maxAttempts,
          descriptor.idempotency,
          options,
          controller,
        )
        const failedEntry = await ledger.failed(
          invoked,
          Object.assign(facts(), {
            error: errorFacts(failure),
            sent,
            durationMs: Math.round(latency * 1000) / 1000,
          }),
          reservation,
          stop === undefined ? undefined : keyFinal(),
        )
        entries.push(failedEntry.id)
        if (stop !== undefined) {
          if (!(failure instanceof ProviderCallError)) throw failure
          throw new InvocationFailedError(name, invocation, summary, stop, failure)
        }
        await backoff(this.random, attempt, controller)
      }
    } finally {
      controller.dispose()
    }
  }
}
