import type { UnsignedRecord } from '../record/schema.js'

/**
 * A complete unsigned record for `name`: versions 1.0.0 (deprecated), 1.2.0, 1.4.1 and 2.0.0-beta.1
 * (latest 1.4.1), issued a minute ago, expiring in a day.
 */
export function conformanceDraft(name: string, seq: number, description = 'Sharpen images'): UnsignedRecord {
  const descriptor = {
    inputSchema: { type: 'object', required: ['image'] },
    maxRisk: 'read-only' as const,
    idempotency: 'idempotent' as const,
  }
  const version = (deprecated: boolean, ids: readonly string[]) => ({
    deprecated,
    yanked: false,
    descriptor,
    providers: ids.map((id) => ({
      id,
      endpoint: `https://${id}.example/fn`,
      cost: { unit: 'USDC', baseUnits: '10000' },
    })),
  })
  const now = Date.now()
  return {
    name,
    namespace: name.split('/')[0]!,
    description,
    latestVersion: '1.4.1',
    versions: {
      '1.0.0': version(true, ['provider-old']),
      '1.2.0': version(false, ['provider-123']),
      '1.4.1': version(false, ['provider-123', 'provider-456']),
      '2.0.0-beta.1': version(false, ['provider-789']),
    },
    seq,
    issuedAt: new Date(now - 60_000).toISOString(),
    ttlSeconds: 300,
    expiresAt: new Date(now + 86_400_000).toISOString(),
    signatures: [],
  }
}
