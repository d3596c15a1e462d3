import { hash } from 'node:crypto'
import { canonicalJson, cidOfDigest } from './_cid.js'
import type { LineageEntry } from './entry.js'

/** An entry as sealed for the log, with the ledger's bookkeeping while its write is queued. */
export interface Sealed {
  readonly id: string
  readonly seq: number
  readonly bytes: Buffer
  readonly entry: LineageEntry
  /** The RFC 9162 leaf hash of `bytes`. */
  readonly leaf: Buffer
  /** The interior Merkle nodes this leaf completed, stored with it. */
  nodes: readonly Uint8Array[]
  /** A FUNCTION_INVOKED whose terminal entry is queued. */
  closed: boolean
  /** A FUNCTION_INVOKED whose open_attempts row is written. */
  open: boolean
}

const NONE: readonly Uint8Array[] = []

// Every key a lineage entry can have, in RFC 8785 order (UTF-16 code units), each with its JSON.
const KEYS = [
  'at',
  'attempt',
  'charge',
  'durationMs',
  'endpoint',
  'error',
  'function',
  'idempotencyClass',
  'idempotencyKey',
  'inputCid',
  'invocation',
  'invoked',
  'lease',
  'outputCid',
  'prev',
  'principal',
  'provider',
  'quantity',
  'reason',
  'recordId',
  'recovered',
  'sent',
  'seq',
  'traceparent',
  'trigger',
  'type',
  'v',
  'version',
].sort()
const LEDGER_SET = new Set(['v', 'seq', 'prev', 'at'])

/**
 * A copy of a nested value whose objects have their keys in RFC 8785 order, so that `JSON.stringify`
 * writes its canonical form; `undefined` when the value is not plain JSON or has a key starting with
 * a digit (the general path decides).
 */
function sorted(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : undefined
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) {
        const out: unknown[] = []
        for (const item of value) {
          const v = item === undefined ? null : sorted(item)
          if (v === undefined) return undefined
          out.push(v)
        }
        return out
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return undefined
      const record = value as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(record).sort()) {
        // Engines put integer-like keys first whatever the insertion order: leave those to the general path.
        const c = key.charCodeAt(0)
        if (c >= 48 && c <= 57) return undefined
        if (record[key] === undefined) continue
        const v = sorted(record[key])
        if (v === undefined) return undefined
        out[key] = v
      }
      return out
    }
    default:
      return undefined
  }
}

/**
 * Builds an entry from a call's fields and the ledger's `seq`, `prev` and `at`, and seals it: its
 * RFC 8785 bytes, its id (the CID of the bytes) and its RFC 9162 leaf hash, both from one buffer.
 * The entry object is built with its keys already in canonical order (a fixed list, no sorting per
 * entry), so the engine's `JSON.stringify` writes the canonical text: RFC 8785 writes strings and
 * finite numbers exactly as `JSON.stringify` does. Fields with `undefined` values are left out.
 * Anything else (an unknown field, a non-plain value) takes the general canonicalizer.
 */
export function sealEntry(
  fields: Readonly<Record<string, unknown>>,
  seq: number,
  prev: string | null,
  at: number,
): Sealed {
  let defined = 0
  for (const key in fields) {
    if (fields[key] === undefined || LEDGER_SET.has(key)) continue
    defined++
  }
  const entry: Record<string, unknown> = {}
  let known = 0
  let plain = true
  for (let i = 0; i < KEYS.length; i++) {
    const key = KEYS[i]!
    let value: unknown
    if (key === 'seq') value = seq
    else if (key === 'prev') value = prev
    else if (key === 'at') value = at
    else if (key === 'v') value = 1
    else {
      value = fields[key]
      if (value === undefined) continue
      known++
      if (typeof value === 'object' || typeof value === 'number') {
        value = sorted(value)
        if (value === undefined) plain = false
      } else if (typeof value !== 'string' && typeof value !== 'boolean') plain = false
    }
    entry[key] = value
  }
  if (known !== defined || !plain || !Number.isFinite(seq) || !Number.isFinite(at)) {
    const all: Record<string, unknown> = {}
    for (const key in fields) if (fields[key] !== undefined) all[key] = fields[key]
    Object.assign(all, { v: 1, seq, prev, at })
    const text = canonicalJson(all)
    return sealText(text, JSON.parse(text) as LineageEntry, seq)
  }
  return sealText(JSON.stringify(entry), entry as unknown as LineageEntry, seq)
}

function sealText(json: string, entry: LineageEntry, seq: number): Sealed {
  const length = Buffer.byteLength(json)
  // 0x00 || bytes: the leaf hash covers all of it, the CID the bytes after the prefix.
  const buf = Buffer.allocUnsafe(length + 1)
  buf[0] = 0
  buf.write(json, 1)
  const bytes = buf.subarray(1)
  const leaf = hash('sha256', buf, 'buffer')
  const id = cidOfDigest(hash('sha256', bytes, 'buffer'))
  return { id, seq, bytes, entry, leaf, nodes: NONE, closed: false, open: false }
}
