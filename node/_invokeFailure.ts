import type { MeshError } from '../src/errors/base.js'
import { InvocationFailedError, ProviderCallError } from '../src/errors/invoke.js'
import type { ResponseHeader } from './_invokeWire.js'

// What a host's failure tells the caller: whether the function may have run (so the caller's
// idempotency class decides on a retry) and whether any other attempt could help.

/** Codes the host raises before anything runs. */
const NOT_RUN = new Set([
  'E_PEER_PROTOCOL',
  'E_PEER_VERSION_UNSUPPORTED',
  'E_PEER_RATE_LIMITED',
  'E_PEER_BUSY',
  'E_PEER_REQUEST_TOO_LARGE',
  'E_PEER_REQUEST_TIMEOUT',
  'E_PEER_FUNCTION_NOT_HOSTED',
  'E_INPUT_INVALID',
  'E_IDEMPOTENCY_KEY_REQUIRED',
  'E_IDEMPOTENCY_CONFLICT',
  'E_CALL_OPTIONS_INVALID',
  'E_SCHEMA_INVALID',
  'E_NO_PROVIDER',
  'E_MESH_CLOSED',
])
/** Codes after which no other attempt can help. */
const FINAL = new Set([
  'E_PEER_PROTOCOL',
  'E_PEER_REQUEST_TOO_LARGE',
  'E_PEER_RESPONSE_TOO_LARGE',
  'E_INPUT_INVALID',
  'E_IDEMPOTENCY_KEY_REQUIRED',
  'E_IDEMPOTENCY_CONFLICT',
  'E_IDEMPOTENCY_OUTCOME_UNKNOWN',
  'E_CALL_OPTIONS_INVALID',
  'E_DEADLINE_EXCEEDED',
])

/** The error response for a host-side failure: whether it may have run, whether retrying helps. */
export function failure(err: MeshError, invocation: string | undefined, known?: boolean): ResponseHeader {
  let ran = known ?? !NOT_RUN.has(err.code)
  let retryable = !FINAL.has(err.code)
  if (err instanceof InvocationFailedError && err.lastError instanceof ProviderCallError) {
    ran = err.lastError.sent
    retryable = err.lastError.retryable
  }
  // The error's JSON without its cause chain, and its details only when they are small.
  const details = JSON.stringify(err.details)
  return {
    v: 1,
    ok: false,
    ...(invocation === undefined ? {} : { invocation }),
    error: {
      name: err.name,
      code: err.code,
      shortMessage: err.shortMessage.slice(0, 2000),
      ...(details.length <= 8192 ? { details: err.details } : {}),
      ...(err.hint === undefined ? {} : { hint: err.hint.slice(0, 1000) }),
    },
    ran,
    retryable,
  }
}
