import { isMeshError, MeshError } from '../src/errors/base.js'
import { InternalError, MethodNotAllowedError, RateLimitedError, UnauthorizedError } from './errors.js'
import { statusOf } from './status.js'

const JSON_TYPE = 'application/json; charset=utf-8'

/** JSON text of a value, bigints as decimal strings (money is integer base units, never a float). */
export function stringify(value: unknown): string {
  return JSON.stringify(value, bigintAsText)
}

/**
 * {@link stringify} for a value whose only bigints are where the caller converted them: plain
 * `JSON.stringify` (a replacer function is called for every key of the value, a call result's whole
 * output included), falling back to {@link stringify} if a bigint is met after all.
 */
export function stringifyPlain(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch (err) {
    if (err instanceof TypeError) return stringify(value)
    throw err
  }
}

function bigintAsText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v
}

/** A JSON answer. */
export function json(value: unknown, status = 200, headers?: Record<string, string>): Response {
  return jsonText(stringify(value), status, headers)
}

/** A JSON answer from text already serialized. */
export function jsonText(text: string, status = 200, headers?: Record<string, string>): Response {
  return new Response(text, {
    status,
    headers: headers ? { 'content-type': JSON_TYPE, ...headers } : { 'content-type': JSON_TYPE },
  })
}

/** The error answer: the `MeshError` JSON, with the status from the code table and the headers its kind needs. */
export function errorResponse(err: unknown): Response {
  const error = isMeshError(err) ? err : new InternalError(err)
  const headers: Record<string, string> = {}
  if (error instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer realm="fmesh"'
  if (error instanceof RateLimitedError) headers['retry-after'] = String(error.retryAfterSeconds)
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(', ')
  return json(errorBody(error), statusOf(error.code), headers)
}

/** The body of an error answer (also what a failed dispatch result carries). */
export function errorBody(err: unknown): ReturnType<MeshError['toJSON']> {
  return (err instanceof MeshError ? err : new InternalError(err)).toJSON()
}
