import { hash, randomFillSync } from 'node:crypto'

// The same CIDv1 (json codec 0x0200, sha2-256) string as `recordId` in record/codec.ts, built
// without the multiformats object layers: the ledger makes several per call. The five prefix bytes
// (version 0x01, codec 0x80 0x04, sha2-256 0x12, length 0x20) are exactly 40 bits, eight base32
// characters, so the string is a constant head and the digest's base32.
const HEAD = 'bagaaiera'
const A = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * SHA-256 of `data` as a 32-character latin1 (`binary`) string (one character per byte). Node 20's one-shot
 * `hash` returns a string in under half the time it takes to return a Buffer (~0.45 against ~1.0 us
 * for a 450-byte entry): the ledger hashes about eight times per call, so its hashes stay strings
 * until they must be bytes.
 */
export function sha256(data: Uint8Array | string): string {
  return hash('sha256', data, 'binary')
}

/** A latin1 digest string as bytes. */
export function digestBytes(digest: string): Buffer {
  return Buffer.from(digest, 'latin1')
}

/** The CID string of a SHA-256 digest (a latin1 string) of JSON bytes: `b` + base32 (RFC 4648, lowercase, no padding). */
export function cidOfDigest(d: string): string {
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

/** `recordId(bytes)`, faster: the CID of JSON bytes (or of a string's UTF-8 bytes). */
export function fastCid(bytes: Uint8Array | string): string {
  return cidOfDigest(sha256(bytes))
}

const pool = Buffer.alloc(4096)
let offset = pool.length

/** `n` random bytes as lowercase hex, from a pooled buffer refilled from the OS CSPRNG. */
export function randomHex(n: number): string {
  if (offset + n > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + n)
  offset += n
  return hex
}

/**
 * RFC 8785 canonical JSON text of a plain JSON value (objects, arrays, strings, finite numbers,
 * booleans, null), as `canonicalize` produces it, without its generality: keys sorted by UTF-16 code
 * units, primitives as `JSON.stringify` writes them (which is what RFC 8785 specifies). Ledger
 * entries are built by the ledger itself, so they are always plain; `verify()` re-checks every stored
 * entry against the reference implementation.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in JSON')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      out +=
        (i === 0 ? '' : ',') +
        (item === undefined || typeof item === 'function' ? 'null' : canonicalJson(item))
    }
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let out = '{'
  let first = true
  for (const key of keys) {
    const item = record[key]
    if (item === undefined || typeof item === 'function') continue
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`
    first = false
  }
  return `${out}}`
}
