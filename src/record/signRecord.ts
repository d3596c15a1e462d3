import type { Signer } from '../trust/signer.js'
import { canonicalBytes, recordId, signingPayload } from './codec.js'
import type { FunctionRecord, UnsignedRecord } from './schema.js'
import { validateRecord } from './validate.js'

/** A signed record with its canonical bytes and id, ready for any registry. */
export interface EncodedRecord {
  readonly record: FunctionRecord
  readonly bytes: Uint8Array
  readonly id: string
}

/**
 * Validates a complete record and adds `signer`'s signature (replacing an older one by the same key,
 * keeping the others, so several owners can co-sign).
 *
 * @example
 * ```ts
 * const { record, bytes, id } = await signRecord({ ...draft, seq: 1, issuedAt, ttlSeconds: 300, expiresAt, signatures: [] }, signer)
 * ```
 */
export async function signRecord(record: UnsignedRecord, signer: Signer): Promise<EncodedRecord> {
  const parsed = validateRecord({ ...record, signatures: record.signatures ?? [] })
  const others = parsed.signatures.filter((s) => s.keyId !== signer.id)
  const payload = signingPayload(parsed as unknown as Record<string, unknown>)
  const sig = Buffer.from(await signer.sign(payload)).toString('base64url')
  const signed: FunctionRecord = {
    ...parsed,
    signatures: [...others, { keyId: signer.id, alg: 'ed25519', sig }],
  }
  const bytes = canonicalBytes(signed)
  return { record: signed, bytes, id: recordId(bytes) }
}
