import { createHash, randomFillSync } from 'node:crypto'

// The same CIDv1 (json codec 0x0200, sha2-256) string as `recordId` in record/codec.ts, built
// without the multiformats object layers: the ledger makes several per call.
const PREFIX = Uint8Array.of(0x01, 0x80, 0x04, 0x12, 0x20)
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** `recordId(bytes)`, faster: `b` + base32 (RFC 4648, lowercase, no padding) of version, codec and multihash. */
export function fastCid(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  let out = 'b'
  let buffer = 0
  let bits = 0
  const push = (byte: number) => {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
    buffer &= 0xff
  }
  for (const b of PREFIX) push(b)
  for (const b of digest) push(b)
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
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
