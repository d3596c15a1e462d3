import { canonicalJson } from '../encoding/canonicalJson.js'
import { jsonCid } from '../encoding/jsonCid.js'
import { RecordLimitError, RecordMalformedError, RecordTooLargeError } from '../errors/record.js'
import { formsOfCanonicalSource, type RecordSource } from './_canonicalForms.js'

export type { RecordSource } from './_canonicalForms.js'

/** Largest accepted encoded record, checked before parsing. @default 65536 */
export const MAX_RECORD_BYTES = 64 * 1024

/** Most versions in one record, counted right after parsing, before a schema walks them. @default 256 */
export const MAX_VERSIONS = 256

/** Prefixed to what a record signature covers, so a record signature can never pass for another kind. */
export const RECORD_SIGNING_DOMAIN = 'function-mesh/record/v1\n'

const encoder = new TextEncoder()
const DOMAIN_BYTES = encoder.encode(RECORD_SIGNING_DOMAIN)
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * RFC 8785 (JCS) canonical JSON bytes of a value.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(canonicalBytes({ b: 1, a: [true, 'x'] })) // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalBytes(value: unknown, origin?: string): Uint8Array {
  return encoder.encode(canonicalText(value, origin))
}

/**
 * The record id: a CIDv1 (json codec, sha2-256) of the record's canonical bytes, so the same record
 * has the same id in every registry and on the wire.
 *
 * @example
 * ```ts
 * recordId(canonicalBytes(record)) // 'bagaaiera...'
 * ```
 */
export function recordId(bytes: Uint8Array): string {
  return jsonCid(bytes)
}

/** The bytes a record signature covers: the domain prefix, then the canonical record without `signatures`. */
export function signingPayload(raw: Record<string, unknown>, origin?: string): Uint8Array {
  return recordForms(raw, origin).payload
}

/**
 * Both byte forms of a record from one canonicalization pass: `payload` (what signatures cover) and
 * `canonical` (the whole record, what the id covers). RFC 8785 sorts keys by UTF-16 code units, as
 * `Array.prototype.sort` does, so the top level is assembled here from canonical members and the
 * record body is canonicalized once instead of twice (the hot path of every sync).
 */
export function recordForms(
  raw: Record<string, unknown>,
  origin?: string,
  source?: RecordSource,
): { payload: Uint8Array; canonical: Uint8Array } {
  // Bytes already canonical (as records are stored and sent) give both forms without a new pass.
  const fast = source === undefined ? undefined : formsOfCanonicalSource(source, raw, DOMAIN_BYTES)
  if (fast !== undefined) return fast
  const all: string[] = []
  const unsigned: string[] = []
  for (const key of Object.keys(raw).sort()) {
    const value = raw[key]
    if (value === undefined) continue
    const member = `${canonicalText(key, origin)}:${canonicalText(value, origin)}`
    all.push(member)
    if (key !== 'signatures') unsigned.push(member)
  }
  const body = `{${unsigned.join(',')}}`
  const payload = encoder.encode(RECORD_SIGNING_DOMAIN + body)
  return {
    payload,
    canonical: all.length === unsigned.length ? encoder.encode(body) : encoder.encode(`{${all.join(',')}}`),
  }
}

/**
 * The RFC 8785 canonical JSON text of a value (`canonicalBytes` without the UTF-8 encoding): the
 * encoding module's {@link canonicalJson}, its refusal as a `RecordMalformedError` naming `origin`.
 */
export function canonicalText(value: unknown, origin?: string): string {
  try {
    return canonicalJson(value)
  } catch (err) {
    const { message, cause } = err as TypeError
    throw new RecordMalformedError(message, origin === undefined ? {} : { origin }, cause)
  }
}

export interface ParseOptions {
  /** @default MAX_RECORD_BYTES */
  maxBytes?: number
  /** Where the bytes came from, for error messages (registry id, peer, file). */
  origin?: string
}

/**
 * Parses untrusted record bytes into a plain JSON object: size first, then UTF-8, then JSON, then the
 * cheap count limits that must hold before a schema walks the value.
 */
export function parseRecordJson(bytes: Uint8Array, options: ParseOptions = {}): Record<string, unknown> {
  return parseRecordSource(bytes, options).value
}

/**
 * {@link parseRecordJson}, also giving the text the bytes decoded to (for `recordForms`, which then
 * need not serialize bytes that are already canonical).
 */
export function parseRecordSource(
  bytes: Uint8Array,
  options: ParseOptions = {},
): { value: Record<string, unknown>; source: RecordSource } {
  const where = options.origin === undefined ? {} : { origin: options.origin }
  const maxBytes = options.maxBytes ?? MAX_RECORD_BYTES
  if (!(bytes instanceof Uint8Array)) throw new RecordMalformedError('expected bytes', where)
  if (bytes.byteLength > maxBytes) throw new RecordTooLargeError(bytes.byteLength, maxBytes, where)
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch (err) {
    throw new RecordMalformedError('not UTF-8', where, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new RecordMalformedError(
      err instanceof RangeError ? 'nested too deeply' : (err as Error).message,
      where,
      err,
    )
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordMalformedError('the top level must be a JSON object', where)
  }
  const versions = (value as { versions?: unknown }).versions
  if (versions !== null && typeof versions === 'object') {
    const count = Object.keys(versions).length
    if (count > MAX_VERSIONS) throw new RecordLimitError('versions', count, MAX_VERSIONS, where)
  }
  return { value: value as Record<string, unknown>, source: { bytes, text } }
}
