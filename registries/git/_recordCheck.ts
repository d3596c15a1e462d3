import { verify } from 'node:crypto'
import { RecordSchemaError } from '../../src/errors/record.js'
import { RecordUnsignedError, SignatureInvalidError } from '../../src/errors/trust.js'
import { canonicalBytes, parseRecordJson, recordId, signingPayload } from '../../src/record/codec.js'
import type { FunctionRecord } from '../../src/record/schema.js'
import { validateRecord } from '../../src/record/validate.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { publicKeyObject } from '../../src/trust/signer.js'

/** What the registry learns from a record it accepts. */
export interface CheckedRecord {
  readonly record: FunctionRecord
  readonly id: string
}

export interface CheckOptions {
  origin: string
  expectName: string
  signal?: AbortSignal
}

/** Checks untrusted record bytes read from Git; throws the MeshError that says why they are refused. */
export interface RecordCheck {
  (bytes: Uint8Array, options: CheckOptions): Promise<CheckedRecord>
  /** Checks a batch (a sync's changed records), each settled on its own, in input order. */
  many(
    items: readonly { bytes: Uint8Array; options: CheckOptions }[],
  ): Promise<PromiseSettledResult<CheckedRecord>[]>
  /**
   * `many` in two steps (see `RecordVerifier.prepareMany`): worker threads start on the batch now,
   * this thread finishes it later. Only with a verifier.
   */
  prepare?(items: readonly { bytes: Uint8Array; options: CheckOptions }[]): PreparedChecks
}

/** A batch of checks started by {@link RecordCheck.prepare}. */
export interface PreparedChecks {
  finish(): Promise<PromiseSettledResult<CheckedRecord>[]>
  discard(): void
}

/**
 * With a verifier (trust configured): the mesh's full verification (size, schema, name, owner
 * signature), expiry aside, since an expired record is still the newest one a publisher replaces.
 * Without: size, schema, name, and that every signature verifies for the key it names; ownership is
 * then left to the mesh, which verifies every record it resolves.
 */
export function recordCheck(verifier: RecordVerifier | undefined, maxBytes: number | undefined): RecordCheck {
  if (verifier !== undefined) {
    const verifyOptions = ({ origin, expectName, signal }: CheckOptions) => ({
      origin,
      expectName,
      allowExpired: true,
      ...(signal === undefined ? {} : { signal }),
    })
    const checked = ({ record, id }: CheckedRecord): CheckedRecord => ({ record, id })
    return Object.assign(
      async (bytes: Uint8Array, options: CheckOptions) =>
        checked(await verifier.verify(bytes, verifyOptions(options))),
      {
        async many(items: readonly { bytes: Uint8Array; options: CheckOptions }[]) {
          const settled = await verifier.verifyMany(
            items.map(({ bytes, options }) => ({ bytes, options: verifyOptions(options) })),
          )
          return settled.map((s) => (s.status === 'fulfilled' ? { ...s, value: checked(s.value) } : s))
        },
        prepare(items: readonly { bytes: Uint8Array; options: CheckOptions }[]): PreparedChecks {
          const batch = verifier.prepareMany(
            items.map(({ bytes, options }) => ({ bytes, options: verifyOptions(options) })),
          )
          return {
            finish: async () =>
              (await batch.finish()).map((s) =>
                s.status === 'fulfilled' ? { ...s, value: checked(s.value) } : s,
              ),
            discard: () => batch.discard(),
          }
        },
      },
    )
  }
  const one = async (bytes: Uint8Array, { origin, expectName }: CheckOptions): Promise<CheckedRecord> => {
    const raw = parseRecordJson(bytes, { origin, ...(maxBytes === undefined ? {} : { maxBytes }) })
    const record = validateRecord(raw, origin)
    if (record.name !== expectName) {
      throw new RecordSchemaError('name', `expected ${expectName}, the name of the file's path`, { origin })
    }
    const ref = { name: record.name, origin }
    if (record.signatures.length === 0) throw new RecordUnsignedError(ref)
    const payload = signingPayload(raw, origin)
    for (const signature of record.signatures) {
      const key = publicKeyObject(signature.keyId)
      if (key === undefined)
        throw new SignatureInvalidError(ref, signature.keyId, 'the key id is not an ed25519 did:key')
      if (!verify(null, payload, key, Buffer.from(signature.sig, 'base64url'))) {
        throw new SignatureInvalidError(ref, signature.keyId)
      }
    }
    return { record, id: recordId(canonicalBytes(raw, origin)) }
  }
  return Object.assign(one, {
    many: (items: readonly { bytes: Uint8Array; options: CheckOptions }[]) =>
      Promise.allSettled(items.map(({ bytes, options }) => one(bytes, options))),
  })
}
