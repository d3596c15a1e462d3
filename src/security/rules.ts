/**
 * The rules that can remove a candidate provider, in the order they are checked. Each id is stable
 * (tests, logs and `--json` output branch on it).
 */
export const SECURITY_RULES = {
  'context.level': 'a pure context reaches no mesh function',
  'record.minSecurityLevel': "the record demands a higher level than the context's",
  'context.allowedFunctions': 'the function is not in allowedFunctions or allowedFunctionPatterns',
  'context.maxRisk': "the descriptor's maxRisk is above the context's maxRisk",
  'record.requiredPermissions': "the context lacks a permission the record's securityRequirements require",
  'descriptor.requiredPermissions': 'the context lacks a permission the descriptor requires',
  'record.trustedProviders': "the provider is not in the record's trustedProviders",
  'context.allowedProviders': 'the provider is not in allowedProviders',
} as const

export type SecurityRule = keyof typeof SECURITY_RULES

/** What to change so a rule stops removing candidates; used in error hints. */
export const RULE_FIXES: Readonly<Record<SecurityRule, string>> = {
  'context.level': 'context.level: use level controlled (with allow lists) or full to reach mesh functions.',
  'record.minSecurityLevel':
    "record.minSecurityLevel: raise the context's level to the one the record demands.",
  'context.allowedFunctions':
    'context.allowedFunctions: add the function name to allowedFunctions or a matching glob to allowedFunctionPatterns.',
  'context.maxRisk':
    "context.maxRisk: raise maxRisk to the descriptor's maxRisk, if the caller may take that risk.",
  'record.requiredPermissions':
    'record.requiredPermissions: add the missing permissions to grantedPermissions.',
  'descriptor.requiredPermissions':
    'descriptor.requiredPermissions: add the missing permissions to grantedPermissions.',
  'record.trustedProviders':
    'record.trustedProviders: only the providers the publisher trusts may serve this record; ask the publisher to trust the provider.',
  'context.allowedProviders':
    'context.allowedProviders: add the provider id (or a glob matching it) to allowedProviders.',
}
