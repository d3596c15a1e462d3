import type { RecordDraft } from '../../src/record/schema.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import type { LocalSigner } from '../../src/trust/signer.js'

/** A complete, realistic record draft for `name`, with versions 1.0.0 (deprecated), 1.2.0, 1.4.1 and 2.0.0-beta.1. */
export function sampleDraft(
  name = 'acme.com/image/sharpen',
  overrides: Partial<RecordDraft> = {},
): RecordDraft {
  const descriptor = {
    inputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
    outputSchema: { type: 'object', required: ['image'] },
    maxRisk: 'read-only' as const,
    idempotency: 'idempotent' as const,
    allowedByDefault: false,
    maxDurationMs: 5000,
    triggerEvents: [],
  }
  const provider = (id: string, baseUnits: string, ms: number) => ({
    id,
    endpoint: `https://${id}.example/sharpen`,
    capabilityRef: `marketplace://offer/${id}`,
    slaTier: 'premium',
    cost: { unit: 'USDC', baseUnits },
    avgResponseTimeMs: ms,
  })
  return {
    name,
    description: 'Sharpen images',
    latestVersion: '1.4.1',
    versions: {
      '1.0.0': {
        deprecated: true,
        yanked: false,
        descriptor,
        providers: [provider('provider-old', '5000', 400)],
      },
      '1.2.0': {
        deprecated: false,
        yanked: false,
        descriptor,
        providers: [provider('provider-123', '10000', 150)],
      },
      '1.4.1': {
        deprecated: false,
        yanked: false,
        descriptor,
        providers: [provider('provider-123', '10000', 150), provider('provider-456', '5000', 300)],
      },
      '2.0.0-beta.1': {
        deprecated: false,
        yanked: false,
        descriptor,
        providers: [provider('provider-789', '1', 50)],
      },
    },
    securityRequirements: {
      minSecurityLevel: 'controlled',
      requiredPermissions: ['image.read'],
      trustedProviders: ['provider-123'],
    },
    ...overrides,
  }
}

/** The fixed "now" of record tests (fake clocks start here). */
export const NOW = Date.parse('2026-11-22T00:00:00Z')

/** A valid envelope around NOW: issued a minute before, expiring a day after. */
export function envelope(seq = 1) {
  return {
    namespace: 'acme.com',
    seq,
    issuedAt: new Date(NOW - 60_000).toISOString(),
    ttlSeconds: 300,
    expiresAt: new Date(NOW + 86_400_000).toISOString(),
    signatures: [],
  }
}

/** Record bytes with `change` applied to the parsed JSON (signatures left as they were). */
export function mutate(bytes: Uint8Array, change: (raw: Record<string, unknown>) => void): Uint8Array {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
  change(raw)
  return new TextEncoder().encode(JSON.stringify(raw))
}

/** Signs a sample record with the given envelope. */
export async function signed(
  signer: LocalSigner,
  name: string,
  seq: number,
  extra: Partial<RecordDraft> = {},
): Promise<EncodedRecord> {
  const issuedAt = new Date(Date.now() - 60_000).toISOString()
  return signRecord(
    {
      ...sampleDraft(name, extra),
      namespace: name.split('/')[0]!,
      seq,
      issuedAt,
      ttlSeconds: 300,
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      signatures: [],
    },
    signer,
  )
}
