import { MeshError } from './base.js'

/** A security context (or its part of `createMesh` options) broke a rule; `details` names the field. */
export class SecurityContextInvalidError extends MeshError {
  override name = 'SecurityContextInvalidError'
  constructor(field: string, rule: string, value?: unknown, cause?: unknown) {
    super('E_SECURITY_CONTEXT_INVALID', `Invalid security context at ${field || '(root)'}: ${rule}`, {
      details: { field: field || '(root)', rule, ...(value === undefined ? {} : { value: preview(value) }) },
      hint: 'Build contexts with securityContext({ level, ... }); levels are pure, controlled and full.',
      cause,
    })
  }
}

/** The rules that removed one candidate provider, as carried by {@link NoAllowedProviderError}. */
export interface RemovalSummary {
  provider: string
  violations: readonly { rule: string; scope: string; message: string }[]
}

/**
 * Every provider of the chosen version was removed by the security context or the record's own
 * requirements. The message has one line per candidate naming the rules that removed it (and the
 * context that applied each: `mesh`, `call` or `record`); `removed` carries the full messages; `hint`
 * says how to fix each distinct rule.
 */
export class NoAllowedProviderError extends MeshError {
  override name = 'NoAllowedProviderError'
  readonly removed: readonly RemovalSummary[]
  constructor(name: string, version: string, removed: readonly RemovalSummary[], fixes: readonly string[]) {
    super(
      'E_NO_ALLOWED_PROVIDER',
      `No provider of ${name}@${version} is allowed: ${removed.length} removed by security rules`,
      {
        details: {
          name,
          version,
          ...Object.fromEntries(
            removed.map((r) => [
              `provider ${r.provider}`,
              r.violations.map((v) => `${v.rule} [${v.scope}]`).join(', '),
            ]),
          ),
        },
        hint: fixes.join('\n'),
      },
    )
    this.removed = removed
  }
}

function preview(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 80 ? `${value.slice(0, 80)}...` : value
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value
  return Array.isArray(value) ? `array(${value.length})` : 'object'
}
