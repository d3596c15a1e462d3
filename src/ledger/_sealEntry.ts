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
const KEY_JSON = KEYS.map((k) => `${JSON.stringify(k)}:`)
const LEDGER_SET = new Set(['v', 'seq', 'prev', 'at'])

function valueJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in JSON')
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      return canonicalJson(value)
  }
}

/**
 * Builds an entry from a call's fields and the ledger's `seq`, `prev` and `at`, and seals it: its
 * RFC 8785 bytes (written straight from a fixed key order, no sorting per entry), its id (the CID of
 * the bytes) and its RFC 9162 leaf hash, both from one buffer. Fields with `undefined` values are
 * left out. An unknown field (never from the ledger's own callers) takes the general path.
 */
export function sealEntry(
  fields: Readonly<Record<string, unknown>>,
  seq: number,
  prev: string | null,
  at: number,
): Sealed {
  let known = 0
  let defined = 0
  for (const key in fields) {
    if (fields[key] === undefined || LEDGER_SET.has(key)) continue
    defined++
  }
  const entry: Record<string, unknown> = {}
  let json = '{'
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
    }
    json += (json.length === 1 ? '' : ',') + KEY_JSON[i]! + valueJson(value)
    entry[key] = value
  }
  if (known !== defined) {
    const all: Record<string, unknown> = {}
    for (const key in fields) if (fields[key] !== undefined) all[key] = fields[key]
    Object.assign(all, { v: 1, seq, prev, at })
    return sealText(canonicalJson(all), JSON.parse(canonicalJson(all)) as LineageEntry, seq)
  }
  return sealText(`${json}}`, entry as unknown as LineageEntry, seq)
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
