// The stable MeshError codes each parser may refuse hostile input with (the fuzz tests check them).

/** Codes a name may fail with. */
export const NAME_CODES = ['E_NAME_INVALID', 'E_VERSION_SELECTOR_INVALID'] as const
/** Codes a name pattern may fail with. */
export const PATTERN_CODES = ['E_PATTERN_INVALID'] as const
/** Codes untrusted record bytes may fail verification with. */
export const RECORD_CODES = [
  'E_RECORD_TOO_LARGE',
  'E_RECORD_MALFORMED',
  'E_RECORD_SCHEMA',
  'E_RECORD_LIMIT',
  'E_RECORD_UNSIGNED',
  'E_SIGNATURE_INVALID',
  'E_SIGNER_NOT_OWNER',
  'E_NAMESPACE_UNOWNED',
  'E_RECORD_EXPIRED',
  'E_RECORD_NOT_YET_VALID',
] as const

/** Codes a lookup or sync message may be refused with. */
export const WIRE_CODES = ['E_PEER_REQUEST_INVALID', 'E_PEER_VERSION_UNSUPPORTED'] as const
/** Codes a lookup request may be refused with, on top of WIRE_CODES. */
export const LOOKUP_CODES = [
  ...WIRE_CODES,
  'E_NAME_INVALID',
  'E_VERSION_SELECTOR_INVALID',
  'E_PATTERN_INVALID',
  'E_PEER_MESSAGE_TOO_LARGE',
] as const
/** Codes an invoke host answers a hostile request with. */
export const INVOKE_HOST_CODES = [
  'E_PEER_PROTOCOL',
  'E_PEER_VERSION_UNSUPPORTED',
  'E_PEER_REQUEST_TOO_LARGE',
  'E_PEER_REQUEST_TIMEOUT',
  'E_PEER_FUNCTION_NOT_HOSTED',
  'E_NAME_INVALID',
  'E_VERSION_SELECTOR_INVALID',
] as const
/** Codes a config file (its text, or a checked value) may be refused with. */
export const CONFIG_CODES = ['E_CONFIG_INVALID', 'E_CONFIG_READ'] as const
/** Codes a sync of hostile chain logs may fail with. */
export const CHAIN_LOG_CODES = ['E_CHAIN_RPC'] as const
/** Codes the gateway answers a hostile POST body with. */
export const GATEWAY_BODY_CODES = [
  'E_BODY_MALFORMED',
  'E_BODY_TOO_LARGE',
  'E_REQUEST_INVALID',
  'E_UNSUPPORTED_MEDIA_TYPE',
  'E_NAME_INVALID',
  'E_VERSION_SELECTOR_INVALID',
  'E_FUNCTION_NOT_FOUND',
  'E_NO_MATCHING_VERSION',
  'E_INPUT_INVALID',
  'E_CALL_OPTIONS_INVALID',
  'E_INVALID_ARGUMENT',
  'E_OVER_BUDGET',
  'E_BUDGET_EXCEEDED',
  'E_IDEMPOTENCY_CONFLICT',
  'E_SELECT_OPTIONS_INVALID',
  'E_STRATEGY_UNKNOWN',
  'E_STRATEGY_INVALID',
  'E_SECURITY_CONTEXT_INVALID',
] as const
/** Codes the IPFS registry refuses a damaged index or block with. */
export const IPFS_CODES = ['E_IPFS_INDEX_CORRUPT', 'E_IPFS_BLOCK_CORRUPT', 'E_IPFS_BLOCK_MISSING'] as const
/** Codes a call fails with when its libp2p provider answers with hostile frames. */
export const INVOKE_CALLER_CODES = [
  'E_PROVIDER_RESPONSE_INVALID',
  'E_PROVIDER_FAILED',
  'E_PEER_CALL_FAILED',
  'E_OUTPUT_INVALID',
  'E_DEADLINE_EXCEEDED',
  'E_PROVIDER_TIMEOUT',
] as const
