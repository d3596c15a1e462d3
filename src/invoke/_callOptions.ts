import { CallOptionsError } from '../errors/invoke.js'
import type { CallOptions } from './types.js'

const KEY = /^[\x21-\x7e]{1,255}$/
const PRINCIPAL = /^[\x21-\x7e\u00a0-\uffff]{1,256}$/

/** Checks `mesh.call` options, naming the field and the rule on the first bad one. */
export function checkCallOptions(options: CallOptions): void {
  if (options === null || typeof options !== 'object')
    throw new CallOptionsError('(options)', 'must be an object')
  const { timeoutMs, attemptTimeoutMs, idempotencyKey, principal, lease, maxQuantity, maxAttempts, signal } =
    options
  if (
    timeoutMs !== undefined &&
    !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 86_400_000)
  )
    throw new CallOptionsError('timeoutMs', 'must be an integer from 1 to 86400000', timeoutMs)
  if (
    attemptTimeoutMs !== undefined &&
    !(Number.isSafeInteger(attemptTimeoutMs) && attemptTimeoutMs > 0 && attemptTimeoutMs <= 86_400_000)
  )
    throw new CallOptionsError('attemptTimeoutMs', 'must be an integer from 1 to 86400000', attemptTimeoutMs)
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !KEY.test(idempotencyKey)))
    throw new CallOptionsError(
      'idempotencyKey',
      'must be 1-255 printable ASCII characters without spaces',
      idempotencyKey,
    )
  if (principal !== undefined && (typeof principal !== 'string' || !PRINCIPAL.test(principal)))
    throw new CallOptionsError('principal', 'must be 1-256 characters without whitespace', principal)
  if (lease !== undefined && typeof lease !== 'string')
    throw new CallOptionsError('lease', 'must be a lease id', lease)
  if (maxQuantity !== undefined && (typeof maxQuantity !== 'bigint' || maxQuantity < 1n))
    throw new CallOptionsError('maxQuantity', 'must be a bigint of at least 1n', maxQuantity)
  if (
    maxAttempts !== undefined &&
    !(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 20)
  )
    throw new CallOptionsError('maxAttempts', 'must be an integer from 1 to 20', maxAttempts)
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new CallOptionsError('signal', 'must be an AbortSignal', signal)
  if (
    options.callerInvocation !== undefined &&
    (typeof options.callerInvocation !== 'string' || !KEY.test(options.callerInvocation))
  )
    throw new CallOptionsError(
      'callerInvocation',
      'must be 1-255 printable ASCII characters without spaces',
      options.callerInvocation,
    )
  if (options.retryUnsafe !== undefined && typeof options.retryUnsafe !== 'boolean')
    throw new CallOptionsError('retryUnsafe', 'must be a boolean', options.retryUnsafe)
}
