/**
 * What `fmesh` exits with, so a script can tell a usage mistake from a missing function, a refusal
 * and a failure without parsing text. The README's "Exit codes" table is this one.
 */
export const EXIT = Object.freeze({
  ok: 0,
  /** Anything that went wrong and is not below: a provider failed, a registry is down, a bug. */
  failure: 1,
  /** The command line or the config is wrong: an unknown flag, a bad value, a config error. */
  usage: 2,
  /** The thing asked for does not exist: no such function, version, registry, lineage entry, lease. */
  notFound: 3,
  /** Refused by trust or policy: no valid signed record, no allowed provider, over budget, lease rules. */
  refused: 4,
  /** Interrupted by Ctrl-C or SIGTERM (128 + SIGINT). */
  interrupted: 130,
})

const USAGE = new Set([
  'E_USAGE',
  'E_CONFIG_INVALID',
  'E_CONFIG_READ',
  'E_FILE_READ',
  'E_FILE_NOT_JSON',
  'E_INPUT_NOT_JSON',
  'E_INPUT_INVALID',
  'E_NAME_INVALID',
  'E_VERSION_SELECTOR_INVALID',
  'E_PATTERN_INVALID',
  'E_KEY_INVALID',
  'E_INVALID_ARGUMENT',
  'E_CALL_OPTIONS_INVALID',
  'E_SELECT_OPTIONS_INVALID',
  'E_STRATEGY_UNKNOWN',
  'E_SECURITY_CONTEXT_INVALID',
  'E_RECORD_SCHEMA',
  'E_RECORD_MALFORMED',
  'E_CHAIN_NOT_CONFIGURED',
  'E_CHAIN_NO_SIGNER',
  'E_DEMO_DIR_NOT_EMPTY',
])

const NOT_FOUND = new Set([
  'E_FUNCTION_NOT_FOUND',
  'E_NO_MATCHING_VERSION',
  'E_REGISTRY_UNKNOWN',
  'E_LINEAGE_ENTRY_NOT_FOUND',
  'E_LEASE_NOT_FOUND',
  'E_REGISTRY_MISSING',
  'E_LEDGER_MISSING',
  'E_NO_HTTP_PROVIDER',
  'E_NODE_NOT_RUNNING',
])

const REFUSED = new Set([
  'E_NO_VALID_RECORD',
  'E_SIGNATURE_INVALID',
  'E_SIGNER_NOT_OWNER',
  'E_NAMESPACE_UNOWNED',
  'E_SEQ_ROLLBACK',
  'E_RECORD_EXPIRED',
  'E_RECORD_NOT_YET_VALID',
  'E_RECORD_UNSIGNED',
  'E_NO_ALLOWED_PROVIDER',
  'E_BUDGET_EXCEEDED',
  'E_OVER_BUDGET',
  'E_LEASE_CAPABILITY',
  'E_LEASE_EXPIRED',
  'E_LEASE_INVALID',
  'E_IDEMPOTENCY_KEY_REQUIRED',
  'E_IDEMPOTENCY_CONFLICT',
  'E_CHAIN_NOT_OWNER',
  'E_PUBLISH_CONFLICT',
  // A gateway's answers, passed on by `fmesh dispatch --gateway`.
  'E_UNAUTHORIZED',
  'E_FORBIDDEN',
  'E_KEY_OVER_NETWORK',
])

/** The exit code for an error a command ended with. */
export function exitCodeOf(err: unknown): number {
  const e = err as { name?: unknown; code?: unknown }
  if (e?.name === 'CLIError') return EXIT.usage
  const code = typeof e?.code === 'string' ? e.code : ''
  if (code === 'E_ABORTED' || code === 'E_INTERRUPTED') return EXIT.interrupted
  if (USAGE.has(code)) return EXIT.usage
  if (NOT_FOUND.has(code)) return EXIT.notFound
  if (REFUSED.has(code)) return EXIT.refused
  return EXIT.failure
}
