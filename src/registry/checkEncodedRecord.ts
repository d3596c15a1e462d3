import { RecordSchemaError } from '../errors/record.js'
import type { EncodedRecord } from '../record/signRecord.js'

/**
 * Checks that a registry's `publish` was handed an `EncodedRecord` and returns the record's name,
 * lowercased. The bytes are still untrusted: the registry verifies them before storing.
 *
 * @example
 * ```ts
 * const name = checkEncodedRecord(encoded, this.id)
 * const { record, id } = await components.verifier.verify(encoded.bytes, { expectName: name })
 * ```
 */
export function checkEncodedRecord(encoded: EncodedRecord, registry: string): string {
  if (encoded === null || typeof encoded !== 'object' || !(encoded.bytes instanceof Uint8Array)) {
    throw new RecordSchemaError(
      '',
      'publish takes an EncodedRecord ({ record, bytes, id }) from signRecord',
      {
        origin: registry,
      },
    )
  }
  return String(encoded.record?.name ?? '').toLowerCase()
}
