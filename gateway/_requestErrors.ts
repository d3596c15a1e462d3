import { RequestInvalidError } from './errors.js'

/** The `RequestInvalidError` for the first issue zod found in a query or body. */
export function invalid(
  where: 'query' | 'body',
  issue: { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] },
): RequestInvalidError {
  const field = issue.path.map(String).join('.')
  const rule =
    issue.code === 'unrecognized_keys' && issue.keys
      ? `unknown field ${issue.keys.join(', ')}`
      : issue.message
  return new RequestInvalidError(where, field, rule)
}
