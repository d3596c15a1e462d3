/**
 * The one table from `MeshError` codes to HTTP statuses: every code the mesh and the gateway raise
 * has a row (a test checks the codes in `src/errors/` against it); a code not listed answers 500.
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  // The request itself
  E_ROUTE_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_KEY_OVER_NETWORK: 403,
  E_BODY_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_BODY_MALFORMED: 400,
  E_REQUEST_INVALID: 400,
  E_RATE_LIMITED: 429,
  E_INTERNAL: 500,
  E_GATEWAY_NOT_STARTED: 500,
  E_GATEWAY_LISTEN: 500,
  E_GATEWAY_UI_MISSING: 500,
  E_NO_PEER_NODE: 404,
  // Names and arguments
  E_NAME_INVALID: 400,
  E_VERSION_SELECTOR_INVALID: 400,
  E_INVALID_ARGUMENT: 400,
  E_CALL_OPTIONS_INVALID: 400,
  E_SELECT_OPTIONS_INVALID: 400,
  E_STRATEGY_UNKNOWN: 400,
  E_STRATEGY_INVALID: 400,
  E_LEDGER_QUERY: 400,
  E_SECURITY_CONTEXT_INVALID: 400,
  E_LEASE_INVALID: 400,
  // The CLI's own (src/errors/cli.ts): a gateway never raises them; listed so the table is whole
  E_USAGE: 400,
  E_INPUT_NOT_JSON: 400,
  E_FILE_READ: 500,
  E_FILE_WRITE: 500,
  E_FILE_NOT_JSON: 500,
  E_KEY_FILE_INVALID: 500,
  E_GATEWAY_UNREACHABLE: 502,
  E_NODE_NOT_RUNNING: 503,
  E_NODE_RUNNING: 409,
  E_NODE_UNREACHABLE: 502,
  // Not there
  E_FUNCTION_NOT_FOUND: 404,
  E_NO_MATCHING_VERSION: 404,
  E_LINEAGE_ENTRY_NOT_FOUND: 404,
  E_LEASE_NOT_FOUND: 404,
  E_REGISTRY_UNKNOWN: 404,
  E_LEDGER_MISSING: 404,
  E_REGISTRY_MISSING: 503,
  E_INTERRUPTED: 503,
  // The call's input, idempotency and permissions
  E_INPUT_INVALID: 422,
  E_IDEMPOTENCY_KEY_REQUIRED: 428,
  E_IDEMPOTENCY_CONFLICT: 409,
  E_IDEMPOTENCY_OUTCOME_UNKNOWN: 409,
  E_NO_ALLOWED_PROVIDER: 403,
  E_LEASE_CAPABILITY: 403,
  E_LEASE_EXPIRED: 403,
  E_BUDGET_EXCEEDED: 402,
  E_OVER_BUDGET: 402,
  E_CURRENCY_MISMATCH: 422,
  // Deadlines
  E_DEADLINE_EXCEEDED: 504,
  E_PROVIDER_TIMEOUT: 504,
  E_TIMEOUT: 504,
  E_ABORTED: 503,
  // Providers and registries upstream
  E_PROVIDER_UNREACHABLE: 502,
  E_PROVIDER_FAILED: 502,
  E_PROVIDER_RESPONSE_INVALID: 502,
  E_OUTPUT_INVALID: 502,
  E_SCHEMA_INVALID: 502,
  E_INVOCATION_FAILED: 502,
  E_NO_VALID_RECORD: 502,
  E_REGISTRY: 502,
  E_PUBLISH_INCOMPLETE: 502,
  E_NO_PROVIDER: 503,
  E_NO_PROVIDERS: 503,
  E_NO_HEALTHY_PROVIDER: 503,
  E_REGISTRIES_UNAVAILABLE: 503,
  // This node is not able to serve
  E_MESH_CLOSED: 503,
  E_LEDGER_CLOSED: 503,
  E_LEDGER_LOCKED: 503,
  // Records and trust (a publish, or a record handed in)
  E_PUBLISH_CONFLICT: 409,
  E_SEQ_ROLLBACK: 409,
  E_RECORD_TOO_LARGE: 413,
  E_RECORD_MALFORMED: 422,
  E_RECORD_SCHEMA: 422,
  E_RECORD_LIMIT: 422,
  E_RECORD_UNSIGNED: 422,
  E_RECORD_EXPIRED: 422,
  E_RECORD_NOT_YET_VALID: 422,
  E_SIGNATURE_INVALID: 422,
  E_SIGNER_NOT_OWNER: 422,
  E_NAMESPACE_UNOWNED: 422,
  // The node's own state: a configuration or ledger problem the operator must fix
  E_CONFIG_INVALID: 500,
  E_CONFIG_READ: 500,
  E_HEALTH_OPTIONS_INVALID: 500,
  E_HEALTH_SAMPLE_INVALID: 500,
  E_RANDOM_INVALID: 500,
  E_STATS_INVALID: 500,
  E_LEDGER_OPEN: 500,
  E_LEDGER_SCHEMA: 500,
  E_LEDGER_WRITE: 500,
  E_LEDGER_READ_ONLY: 500,
  E_LEDGER_KEY_PERMISSIONS: 500,
  E_LEDGER_KEY_MISSING: 500,
  E_LEDGER_KEY_INVALID: 500,
  E_LEDGER_KEY_CONFLICT: 500,
  E_LINEAGE_TAMPERED: 500,
  E_LEDGER_INCONSISTENT: 500,
  E_SEQ_LEDGER_READ: 500,
  E_SEQ_LEDGER_CORRUPT: 500,
  E_KEY_INVALID: 400,
  // Raised outside src/errors
  E_PATTERN_INVALID: 400,
  E_QUANTITY_INVALID: 502,
  E_GIT_PUSH_CONFLICT: 409,
  E_SEQ_REUSED: 409,
  E_IPNS_ROLLBACK: 409,
  E_CHAIN_NOT_OWNER: 422,
  E_CHAIN_INLINE_TOO_LARGE: 413,
})

/** Registry kinds' own codes not in the table: their backend failed, upstream of this node. */
export const STATUS_BY_PREFIX: readonly (readonly [string, number])[] = Object.freeze([
  ['E_GIT_', 502],
  ['E_IPFS_', 502],
  ['E_IPNS_', 502],
  ['E_CHAIN_', 502],
  ['E_PEER_', 502],
  ['E_MCP_', 502],
] as const)

/**
 * The HTTP status for a `MeshError` code; 500 for a code the table does not know.
 *
 * @example
 * ```ts
 * statusOf('E_FUNCTION_NOT_FOUND') // 404
 * statusOf('E_SOMETHING_NEW') // 500
 * ```
 */
export function statusOf(code: string): number {
  if (Object.hasOwn(STATUS_BY_CODE, code)) return STATUS_BY_CODE[code]!
  for (const [prefix, status] of STATUS_BY_PREFIX) if (code.startsWith(prefix)) return status
  return 500
}
