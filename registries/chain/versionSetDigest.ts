import { sha256, toUtf8Bytes } from 'ethers'
import { canonicalJson } from '../../src/encoding/canonicalJson.js'
import type { FunctionRecord } from '../../src/record/schema.js'

/**
 * The `versionSetDigest` a chain anchor carries: sha-256 of the canonical JSON (RFC 8785) of the
 * record's version strings sorted by UTF-16 code unit (JavaScript's default sort), as 0x-hex.
 * A reader can tell from the anchor alone whether the set of published versions changed.
 *
 * @example
 * ```ts
 * versionSetDigest({ versions: { '1.4.1': v, '1.2.0': w } }) // sha256('["1.2.0","1.4.1"]')
 * ```
 */
export function versionSetDigest(record: Pick<FunctionRecord, 'versions'>): string {
  return sha256(toUtf8Bytes(canonicalJson(Object.keys(record.versions).sort())))
}
