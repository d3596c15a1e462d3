import { hash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { RecordLimitError, RecordMalformedError, RecordTooLargeError } from '../errors/record.js'

/** Largest accepted encoded record, checked before parsing. @default 65536 */
export const MAX_RECORD_BYTES = 64 * 1024

/** Most versions in one record, counted right after parsing, before a schema walks them. @default 256 */
export const MAX_VERSIONS = 256

/** Prefixed to what a record signature covers, so a record signature can never pass for another kind. */
export const RECORD_SIGNING_DOMAIN = 'function-mesh/record/v1\n'

const encoder = new TextEncoder()
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
  return jsonCid(hash('sha256', bytes, 'binary'))
}

/**
 * The CIDv1 string (json codec 0x0200, sha2-256, base32 multibase) of JSON bytes, from their SHA-256
 * digest as a latin1 string: what multiformats' `CID.createV1(json.code, digest).toString()` gives
 * (property-tested against it), without its object layers: ~1.5 us instead of ~9.5 us per record on
 * the bench machine, with Node's one-shot `hash`. The five prefix bytes (version 0x01, codec 0x80 0x04,
 * sha2-256 0x12, length 0x20) are exactly 40 bits, eight base32 characters: a constant head, then
 * the digest's base32 (RFC 4648, lowercase, no padding).
 */
export function jsonCid(digest: string): string {
  const A = 'abcdefghijklmnopqrstuvwxyz234567'
  if (digest.length !== 32) throw new Error('jsonCid takes a 32-byte SHA-256 digest (a latin1 string)')
  let out = 'bagaaiera'
  let bits = 0
  let value = 0
  for (let i = 0; i < 32; i++) {
    value = ((value << 8) | digest.charCodeAt(i)) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += A[(value >> bits) & 31]
    }
  }
  return bits > 0 ? out + A[(value << (5 - bits)) & 31] : out
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
): { payload: Uint8Array; canonical: Uint8Array } {
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

/** The RFC 8785 canonical JSON text of a value (`canonicalBytes` without the UTF-8 encoding). */
export function canonicalText(value: unknown, origin?: string): string {
  let text: string | undefined
  try {
    text = stringifiesCanonically(value) ? JSON.stringify(value) : canonicalize(value)
  } catch (err) {
    throw new RecordMalformedError(
      err instanceof RangeError ? 'nested too deeply' : (err as Error).message,
      origin === undefined ? {} : { origin },
      err,
    )
  }
  if (text === undefined) {
    throw new RecordMalformedError('value has no JSON form', origin === undefined ? {} : { origin })
  }
  return text
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
  return value as Record<string, unknown>
}

/**
 * Whether `JSON.stringify(value)` already is the RFC 8785 form of `value`: plain objects whose keys
 * enumerate in UTF-16 code-unit order at every level, finite numbers, no lone surrogates, nothing
 * JSON cannot hold. RFC 8785 serializes strings and numbers exactly as `JSON.stringify` does, so
 * then the two agree, and the native serializer does in ~8 us what the library does in ~37 us. That
 * is the common case on the hot path: records read back from a registry were stored canonical. Any
 * doubt answers false and the `canonicalize` library does the work.
 */
export function stringifiesCanonically(value: unknown): boolean {
  const stack: unknown[] = [value]
  let budget = 200_000
  while (stack.length > 0) {
    if (--budget < 0) return false
    const v = stack.pop()
    if (v === null || typeof v === 'boolean') continue
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false
      continue
    }
    if (typeof v === 'string') {
      if (/[\ud800-\udfff]/.test(v) && !/^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/.test(v))
        return false
      continue
    }
    if (typeof v !== 'object') return false
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v) || v[i] === undefined) return false
        stack.push(v[i])
      }
      continue
    }
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) return false
    const keys = Object.keys(v)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      if (i > 0 && !((keys[i - 1] as string) < key)) return false
      if (/[\ud800-\udfff]/.test(key) && !/^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/.test(key))
        return false
      const child = (v as Record<string, unknown>)[key]
      if (child === undefined) return false
      stack.push(child)
    }
  }
  return true
}
