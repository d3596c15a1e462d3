import { MeshError } from './base.js'

/** How a failed attempt counts against the provider's health (issue 3's `FailureKind`). */
export type AttemptFailureKind = 'error' | 'timeout' | 'unavailable' | 'bad-response'

/**
 * One attempt at a provider failed. `sent` says whether the request may have reached the provider
 * (what decides if an `at-least-once` or `exactly-once` call may be retried); `retryable` whether
 * trying again could help at all.
 */
export class ProviderCallError extends MeshError {
  override name = 'ProviderCallError'
  readonly sent: boolean
  readonly retryable: boolean
  readonly failure: AttemptFailureKind
  constructor(
    code: string,
    shortMessage: string,
    facts: { sent: boolean; retryable: boolean; failure: AttemptFailureKind },
    options: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {},
  ) {
    super(code, shortMessage, options)
    this.sent = facts.sent
    this.retryable = facts.retryable
    this.failure = facts.failure
  }
}

/** The provider could not be reached; the request was not delivered. */
export class ProviderUnreachableError extends ProviderCallError {
  override name = 'ProviderUnreachableError'
  constructor(provider: string, endpoint: string, reason: string, cause?: unknown) {
    super(
      'E_PROVIDER_UNREACHABLE',
      `Provider ${provider} is unreachable: ${reason}`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { provider, endpoint },
        hint: 'The request was not delivered. Check that the provider is running at that endpoint.',
        cause,
      },
    )
  }
}

/** The provider received the call and reported a failure (a thrown handler error, a non-2xx HTTP status). */
export class ProviderFailedError extends ProviderCallError {
  override name = 'ProviderFailedError'
  readonly status: number | undefined
  constructor(
    provider: string,
    endpoint: string,
    reason: string,
    facts: { retryable: boolean; status?: number; sent?: boolean },
    cause?: unknown,
  ) {
    super(
      'E_PROVIDER_FAILED',
      `Provider ${provider} failed: ${reason}`,
      { sent: facts.sent ?? true, retryable: facts.retryable, failure: 'error' },
      {
        details: { provider, endpoint, ...(facts.status === undefined ? {} : { status: facts.status }) },
        hint: facts.retryable
          ? 'The failure may be temporary; the mesh retries only where the function idempotency class allows.'
          : 'The provider refused this call; retrying the same input will not help.',
        cause,
      },
    )
    this.status = facts.status
  }
}

/** One attempt ran past its own time limit (`attemptTimeoutMs`). */
export class ProviderTimeoutError extends ProviderCallError {
  override name = 'ProviderTimeoutError'
  constructor(provider: string, endpoint: string, timeoutMs: number) {
    super(
      'E_PROVIDER_TIMEOUT',
      `Provider ${provider} did not answer within ${timeoutMs} ms`,
      { sent: true, retryable: true, failure: 'timeout' },
      {
        details: { provider, endpoint, timeoutMs },
        hint: 'The provider may still be working on the request; raise attemptTimeoutMs if it is just slow.',
      },
    )
  }
}

/** The provider's response is unusable: too large, not JSON, or a malformed usage report. */
export class ProviderResponseError extends ProviderCallError {
  override name = 'ProviderResponseError'
  constructor(
    provider: string,
    endpoint: string,
    reason: string,
    details: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(
      'E_PROVIDER_RESPONSE_INVALID',
      `Provider ${provider} sent an unusable response: ${reason}`,
      { sent: true, retryable: true, failure: 'bad-response' },
      {
        details: { provider, endpoint, ...details },
        hint: 'Responses are untrusted input: the provider must answer with JSON within the size limit.',
        cause,
      },
    )
  }
}

/** The provider's output does not match the function's `outputSchema`. */
export class OutputInvalidError extends ProviderCallError {
  override name = 'OutputInvalidError'
  constructor(name: string, version: string, provider: string, path: string, rule: string) {
    super(
      'E_OUTPUT_INVALID',
      `Provider ${provider} returned output that breaks the outputSchema of ${name}@${version}: ${path} ${rule}`,
      { sent: true, retryable: true, failure: 'bad-response' },
      {
        details: { name, version, provider, path, rule },
        hint: 'Nothing was charged. The provider does not implement the published schema; report it or pick another provider.',
      },
    )
  }
}

/** The caller's input does not match the function's `inputSchema` (or is not JSON). Nothing was called. */
export class InputInvalidError extends MeshError {
  override name = 'InputInvalidError'
  constructor(name: string, version: string, path: string, rule: string) {
    super('E_INPUT_INVALID', `Input for ${name}@${version} is invalid at ${path}: ${rule}`, {
      details: { name, version, path, rule },
      hint: 'Fix the input to match the function inputSchema (see `fmesh resolve NAME --json`). Nothing was called.',
    })
  }
}

/** A record's JSON Schema does not compile. */
export class SchemaInvalidError extends MeshError {
  override name = 'SchemaInvalidError'
  constructor(name: string, version: string, which: 'inputSchema' | 'outputSchema', reason: string) {
    super('E_SCHEMA_INVALID', `The ${which} of ${name}@${version} is not a valid JSON Schema: ${reason}`, {
      details: { name, version, which },
      hint: 'The publisher must fix the schema and publish a new version. Nothing was called.',
    })
  }
}

/** The call's deadline passed before an attempt succeeded. */
export class DeadlineExceededError extends MeshError {
  override name = 'DeadlineExceededError'
  constructor(name: string, budgetMs: number, attempts: readonly string[], source: string) {
    super('E_DEADLINE_EXCEEDED', `Calling ${name} did not finish within its ${budgetMs} ms deadline`, {
      details: { name, budgetMs, deadlineFrom: source, attempts },
      hint: "Give it longer (`fmesh call --timeout MS`, or the `timeoutMs` call option; at most the descriptor's maxDurationMs), or pick a faster provider.",
    })
  }
}

/** Every attempt the idempotency class, the retry budget and the provider list allowed has failed. */
export class InvocationFailedError extends MeshError {
  override name = 'InvocationFailedError'
  readonly invocationId: string
  readonly lastError: MeshError
  constructor(
    name: string,
    invocationId: string,
    attempts: readonly string[],
    stop: string,
    last: MeshError,
  ) {
    super('E_INVOCATION_FAILED', `Calling ${name} failed: ${last.shortMessage}`, {
      details: { name, invocationId, attempts, stoppedBecause: stop, lastCode: last.code },
      hint: 'See `cause` for the last attempt. Failed attempts are recorded in the lineage and never charged.',
      cause: last,
    })
    this.invocationId = invocationId
    this.lastError = last
  }
}

/** The function has no provider this mesh can call. */
export class NoProviderError extends MeshError {
  override name = 'NoProviderError'
  constructor(name: string, version: string, endpoints: readonly string[]) {
    super('E_NO_PROVIDER', `No provider of ${name}@${version} can be called from this mesh`, {
      details: { name, version, endpoints },
      hint: 'Endpoints must be local:, http(s):// or a scheme a configured transport handles (libp2p: needs the peer transport).',
    })
  }
}

/** An `exactly-once` function was called without an idempotency key. */
export class IdempotencyKeyRequiredError extends MeshError {
  override name = 'IdempotencyKeyRequiredError'
  constructor(name: string) {
    super('E_IDEMPOTENCY_KEY_REQUIRED', `${name} is exactly-once and needs an idempotency key`, {
      details: { name },
      hint: "Pass { idempotencyKey: '...' }: a key the caller keeps for this one operation (an order id, a UUID).",
    })
  }
}

/** The idempotency key was used before for a different function or input. */
export class IdempotencyConflictError extends MeshError {
  override name = 'IdempotencyConflictError'
  constructor(key: string, principal: string, field: 'function' | 'input', stored: string, given: string) {
    super('E_IDEMPOTENCY_CONFLICT', `Idempotency key ${key} was already used with a different ${field}`, {
      details: { key, principal, field, stored, given },
      hint: 'A key names one operation: use a new key for a different call.',
    })
  }
}

/** The key's earlier call may have run, and retrying is not safe for this function's idempotency class. */
export class IdempotencyOutcomeUnknownError extends MeshError {
  override name = 'IdempotencyOutcomeUnknownError'
  constructor(
    key: string,
    name: string,
    idempotency: string,
    earlier: { code: string; message: string; invocation: string },
  ) {
    super(
      'E_IDEMPOTENCY_OUTCOME_UNKNOWN',
      `The earlier call with idempotency key ${key} failed after it may have reached the provider`,
      {
        details: {
          key,
          name,
          idempotency,
          earlierInvocation: earlier.invocation,
          earlierError: `${earlier.code}: ${earlier.message}`,
        },
        hint:
          idempotency === 'exactly-once'
            ? 'An exactly-once call never runs twice for one key. Check with the provider whether it took effect; use a new key to run it again.'
            : 'Pass { retryUnsafe: true } to run it again and accept a possible duplicate, or use a new key.',
      },
    )
  }
}

/** A call option is malformed. */
export class CallOptionsError extends MeshError {
  override name = 'CallOptionsError'
  constructor(field: string, rule: string, value?: unknown) {
    super('E_CALL_OPTIONS_INVALID', `Invalid call option ${field}: ${rule}`, {
      details: { field, rule, ...(value === undefined ? {} : { value: String(value).slice(0, 200) }) },
      hint: 'See the README section "Calling functions" for the call options.',
    })
  }
}
