import { hash } from 'node:crypto'

/**
 * SHA-256 of `data` (bytes, or a string's UTF-8 bytes) as a 32-character latin1 string, one
 * character per byte: Node's one-shot `hash` returns a string faster than a Buffer, and most digests
 * here (ids, seen-cache keys, the ledger's chain) are used as strings or turned into a CID.
 *
 * @example
 * ```ts
 * digestBytes(sha256('abc')) // <Buffer ba 78 16 bf ...>
 * ```
 */
export function sha256(data: Uint8Array | string): string {
  return hash('sha256', data, 'binary')
}

/** A latin1 digest string (see {@link sha256}) as bytes. */
export function digestBytes(digest: string): Buffer {
  return Buffer.from(digest, 'latin1')
}

/** The CIDv1 prefix (version 0x01, json codec 0x80 0x04, sha2-256 0x12, length 0x20) in base32, after `b`. */
const HEAD = 'bagaaiera'
const A = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * The CIDv1 string (json codec 0x0200, sha2-256, base32 multibase) of JSON bytes, from their SHA-256
 * digest as a latin1 string: what multiformats' `CID.createV1(json.code, digest).toString()` gives
 * (property-tested against it), without its object layers. The five prefix bytes are exactly 40
 * bits, eight base32 characters, so the string is a constant head, then the digest's base32
 * (RFC 4648, lowercase, no padding), five bytes to eight characters at a time.
 */
export function jsonCidOfDigest(d: string): string {
  if (d.length !== 32) throw new TypeError('jsonCidOfDigest takes a 32-byte SHA-256 digest (a latin1 string)')
  let out = HEAD
  for (let i = 0; i < 30; i += 5) {
    const a = d.charCodeAt(i)
    const b = d.charCodeAt(i + 1)
    const c = d.charCodeAt(i + 2)
    const e = d.charCodeAt(i + 3)
    const f = d.charCodeAt(i + 4)
    out +=
      A[a >> 3]! +
      A[((a & 7) << 2) | (b >> 6)]! +
      A[(b >> 1) & 31]! +
      A[((b & 1) << 4) | (c >> 4)]! +
      A[((c & 15) << 1) | (e >> 7)]! +
      A[(e >> 2) & 31]! +
      A[((e & 3) << 3) | (f >> 5)]! +
      A[f & 31]!
  }
  const a = d.charCodeAt(30)
  const b = d.charCodeAt(31)
  return `${out}${A[a >> 3]!}${A[((a & 7) << 2) | (b >> 6)]!}${A[(b >> 1) & 31]!}${A[(b & 1) << 4]!}`
}

/**
 * The CIDv1 (json codec, sha2-256) of JSON bytes, or of a string's UTF-8 bytes: record ids, ledger
 * entry ids, call input and output ids.
 *
 * @example
 * ```ts
 * jsonCid(canonicalJson({ a: 1 })) // 'bagaaiera...'
 * ```
 */
export function jsonCid(bytes: Uint8Array | string): string {
  return jsonCidOfDigest(sha256(bytes))
}
