import { canonicalJson } from '../encoding/canonicalJson.js'
import { digestBytes, jsonCidOfDigest, sha256 } from '../encoding/jsonCid.js'
import type { LineageEntry, SealedEntry } from './entry.js'

/** An entry as sealed for the log, with the ledger's bookkeeping while its write is queued. */
export interface Sealed {
  readonly id: string
  readonly seq: number
  readonly bytes: Buffer
  /** The entry, parsed from `bytes` when first read. */
  readonly entry: LineageEntry
  readonly type: string
  readonly invocation: string
  readonly at: number
  /** The RFC 9162 leaf hash of `bytes`. */
  readonly leaf: Buffer
  /** The interior Merkle nodes this leaf completed, stored with it. */
  nodes: readonly Uint8Array[]
  /** A FUNCTION_INVOKED whose terminal entry is queued. */
  closed: boolean
  /** A FUNCTION_INVOKED whose open_attempts row is written. */
  open: boolean
  /** A FUNCTION_COMPLETED's charge columns (see `chargeColumns`), written in its row. */
  charge: readonly unknown[] | undefined
}

const NONE: readonly Uint8Array[] = []

const LEDGER_SET = new Set(['v', 'seq', 'prev', 'at', 'type'])

/** Thrown inside the per-type writers when a value is not what the type says: the general path takes over. */
const GENERAL = Symbol('general path')

function q(value: unknown): string {
  if (typeof value !== 'string') throw GENERAL
  return JSON.stringify(value)
}

/**
 * Quoted forms of the values that repeat from call to call (function, version, provider, principal,
 * endpoint, record id, reason): a Map hit costs a fraction of `JSON.stringify`. Bounded: cleared
 * when full.
 */
const QUOTED = new Map<string, string>()
const MAX_QUOTED = 4096

function qc(value: unknown): string {
  if (typeof value !== 'string') throw GENERAL
  let quoted = QUOTED.get(value)
  if (quoted === undefined) {
    quoted = JSON.stringify(value)
    if (QUOTED.size >= MAX_QUOTED) QUOTED.clear()
    QUOTED.set(value, quoted)
  }
  return quoted
}

function n(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw GENERAL
  return String(value)
}

function b(value: unknown): string {
  if (typeof value !== 'boolean') throw GENERAL
  return value ? 'true' : 'false'
}

function o(value: unknown): string {
  if (value === null || typeof value !== 'object') throw GENERAL
  return canonicalJson(value)
}

type F = Readonly<Record<string, unknown>>

// One writer per entry type, keys in RFC 8785 order, values read by name. Each returns the text and
// the number of fields it used, so a field it does not know sends the entry to the general path.
function invokedText(f: F, seq: number, prev: string, at: number): [string, number] {
  let used = 12
  let s = `{"at":${n(at)},"attempt":${n(f.attempt)},"endpoint":${qc(f.endpoint)},"function":${qc(f.function)},"idempotencyClass":${qc(f.idempotencyClass)}`
  if (f.idempotencyKey !== undefined) {
    s += `,"idempotencyKey":${q(f.idempotencyKey)}`
    used++
  }
  s += `,"inputCid":${q(f.inputCid)},"invocation":${q(f.invocation)}`
  if (f.lease !== undefined) {
    s += `,"lease":${q(f.lease)}`
    used++
  }
  s += `,"prev":${prev},"principal":${qc(f.principal)},"provider":${qc(f.provider)},"reason":${qc(f.reason)},"recordId":${qc(f.recordId)},"seq":${n(seq)},"traceparent":${q(f.traceparent)}`
  if (f.trigger !== undefined) {
    s += `,"trigger":${o(f.trigger)}`
    used++
  }
  return [`${s},"type":"FUNCTION_INVOKED","v":1,"version":${qc(f.version)}}`, used]
}

function completedText(f: F, seq: number, prev: string, at: number): [string, number] {
  return [
    `{"at":${n(at)},"attempt":${n(f.attempt)},"charge":${o(f.charge)},"durationMs":${n(f.durationMs)},"function":${qc(f.function)},"invocation":${q(f.invocation)},"invoked":${q(f.invoked)},"outputCid":${q(f.outputCid)},"prev":${prev},"principal":${qc(f.principal)},"provider":${qc(f.provider)},"quantity":${qc(f.quantity)},"seq":${n(seq)},"type":"FUNCTION_COMPLETED","v":1,"version":${qc(f.version)}}`,
    11,
  ]
}

function failedText(f: F, seq: number, prev: string, at: number): [string, number] {
  let s = `{"at":${n(at)},"attempt":${n(f.attempt)},"durationMs":${n(f.durationMs)},"error":${o(f.error)},"function":${qc(f.function)},"invocation":${q(f.invocation)},"invoked":${q(f.invoked)},"prev":${prev},"principal":${qc(f.principal)},"provider":${qc(f.provider)}`
  let used = 10
  if (f.recovered !== undefined) {
    s += `,"recovered":${b(f.recovered)}`
    used++
  }
  return [
    `${s},"sent":${b(f.sent)},"seq":${n(seq)},"type":"FUNCTION_FAILED","v":1,"version":${qc(f.version)}}`,
    used,
  ]
}

const WRITERS: Record<string, (f: F, seq: number, prev: string, at: number) => [string, number]> = {
  FUNCTION_INVOKED: invokedText,
  FUNCTION_COMPLETED: completedText,
  FUNCTION_FAILED: failedText,
}

class SealedRecord implements Sealed {
  nodes = NONE
  closed = false
  open = false
  charge: readonly unknown[] | undefined = undefined
  private parsed: LineageEntry | undefined

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly bytes: Buffer,
    readonly leaf: Buffer,
    readonly type: string,
    readonly invocation: string,
    readonly at: number,
  ) {}

  get entry(): LineageEntry {
    this.parsed ??= JSON.parse(this.bytes.toString('utf8')) as LineageEntry
    return this.parsed
  }
}

/**
 * Builds an entry of `type` from a call's fields and the ledger's `seq`, `prev` and `at`, and seals
 * it: its RFC 8785 bytes, its id (the CID of the bytes) and its RFC 9162 leaf hash, both from one
 * buffer. The text is written by a writer per entry type whose keys are already in canonical order
 * (no object built, no sorting per entry), values as RFC 8785 writes them (`JSON.stringify` for
 * strings, finite numbers, the canonicalizer for nested objects). Fields with `undefined` values are
 * left out; `type`, `v`, `seq`, `prev` and `at` in `fields` are ignored (the ledger sets them). An
 * unknown field or a value of another type takes the general canonicalizer.
 */
export function sealEntry(type: string, fields: F, seq: number, prev: string | null, at: number): Sealed {
  let json: string | undefined
  const writer = WRITERS[type]
  if (writer !== undefined) {
    try {
      const [text, used] = writer(fields, seq, prev === null ? 'null' : q(prev), at)
      let defined = 0
      for (const key in fields) if (fields[key] !== undefined && !LEDGER_SET.has(key)) defined++
      if (defined === used) json = text
    } catch (err) {
      if (err !== GENERAL) throw err
    }
  }
  if (json === undefined) {
    const all: Record<string, unknown> = {}
    for (const key in fields) if (fields[key] !== undefined && !LEDGER_SET.has(key)) all[key] = fields[key]
    Object.assign(all, { type, v: 1, seq, prev, at })
    json = canonicalJson(all)
  }
  return sealText(json, seq, type, String(fields.invocation), at)
}

function sealText(json: string, seq: number, type: string, invocation: string, at: number): Sealed {
  const length = Buffer.byteLength(json)
  // 0x00 || bytes: the leaf hash covers all of it, the CID the bytes after the prefix.
  const buf = Buffer.allocUnsafe(length + 1)
  buf[0] = 0
  buf.write(json, 1)
  const bytes = buf.subarray(1)
  const leaf = digestBytes(sha256(buf))
  const id = jsonCidOfDigest(sha256(bytes))
  return new SealedRecord(id, seq, bytes, leaf, type, invocation, at)
}

/** An entries row as lookups read it. */
export interface StoredRow {
  readonly seq: number
  readonly id: string
  readonly body: Buffer
}

/** A stored entry as read back from its row. */
export function sealedFromRow(id: string, seq: number, body: Buffer): SealedEntry {
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return { id, seq, bytes, entry: JSON.parse(body.toString('utf8')) as LineageEntry }
}
