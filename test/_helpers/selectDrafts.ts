import type { Provider, RecordDraft } from '../../src/record/schema.js'

// Record drafts for selection tests and benches; no vitest here, so test/bench can import it.
/** A provider with an https endpoint, priced in `unit`. */
export function provider(
  id: string,
  baseUnits?: string,
  ms?: number,
  extra: Partial<Provider> = {},
): Provider {
  return {
    id,
    endpoint: `https://${id}.example/fn`,
    ...(baseUnits === undefined ? {} : { cost: { unit: 'USDC', baseUnits } }),
    ...(ms === undefined ? {} : { avgResponseTimeMs: ms }),
    ...extra,
  }
}

export interface DraftInit {
  providers?: Provider[]
  maxRisk?: 'read-only' | 'mutation' | 'sensitive-mutation' | 'irreversible'
  allowedByDefault?: boolean
  descriptorPermissions?: string[]
  securityRequirements?: RecordDraft['securityRequirements']
}

/** A one-version (1.0.0) record draft. */
export function draft(name: string, init: DraftInit = {}): RecordDraft {
  return {
    name,
    versions: {
      '1.0.0': {
        descriptor: {
          maxRisk: init.maxRisk ?? 'read-only',
          idempotency: 'idempotent',
          allowedByDefault: init.allowedByDefault ?? false,
          ...(init.descriptorPermissions === undefined
            ? {}
            : { requiredPermissions: init.descriptorPermissions }),
        },
        providers: init.providers ?? [
          provider('p1', '100', 50),
          provider('p2', '200', 20),
          provider('p3', '300', 10),
        ],
      },
    },
    ...(init.securityRequirements === undefined ? {} : { securityRequirements: init.securityRequirements }),
  }
}
