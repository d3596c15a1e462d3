/** The UTF-8 text a record was parsed from, with its bytes. */
export interface RecordSource {
  readonly bytes: Uint8Array
  readonly text: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const SIGNATURES_KEY = new TextEncoder().encode('"signatures":')

/**
 * `recordForms` of a record whose bytes are already canonical (a record stored or sent as
 * `signRecord` wrote it: the common case), without serializing it again: `canonical` is the bytes
 * themselves, `payload` the domain prefix and the bytes without the top-level `signatures` member.
 * The bytes are canonical when `JSON.stringify` of the value parsed from them gives the same text
 * back (RFC 8785 writes strings and numbers as it does), with the keys of every object in UTF-16
 * code-unit order and no lone surrogate (which `JSON.stringify` writes as a `\ud...` escape, and RFC
 * 8785 refuses). Text with no escape and only short integers (the common case) is proven so by one
 * scan of it ({@link plainMember}), other text by serializing the value again. Undefined when they
 * are not, and `recordForms` (the reference this is property-tested against) does the work.
 * `raw` must be what `JSON.parse(source.text)` returned.
 */
export function formsOfCanonicalSource(
  source: RecordSource,
  raw: Record<string, unknown>,
  domain: Uint8Array,
): { payload: Uint8Array; canonical: Uint8Array } | undefined {
  const { bytes, text } = source
  let member = text.includes('\\') ? undefined : plainMember(source, raw)
  if (member === undefined) {
    if (text.includes('\\ud') || !stringifiesTo(raw, text) || !keysSorted(raw)) return undefined
    member = topLevelMember(bytes, SIGNATURES_KEY) ?? NO_MEMBER
  }
  if (member === NOT_CANONICAL) return undefined
  let payload: Uint8Array
  if (member === NO_MEMBER) payload = concat(domain, bytes)
  else {
    const [start, end] = member
    // Drop the member with the comma before it, or after it when it is the first member.
    if (bytes[start - 1] === COMMA)
      payload = concat(domain, bytes.subarray(0, start - 1), bytes.subarray(end))
    else if (bytes[end] === COMMA) payload = concat(domain, bytes.subarray(0, start), bytes.subarray(end + 1))
    else payload = concat(domain, bytes.subarray(0, start), bytes.subarray(end))
  }
  return { payload, canonical: bytes }
}

type Member = readonly [number, number]
const NO_MEMBER: Member = [-1, -1]
const NOT_CANONICAL: Member = [-2, -2]

const COLON = 0x3a
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const LONE_SURROGATE = /[\ud800-\udfff]/u
/** Nesting the one-scan proof takes on; records nest a few levels, JSON Schemas a few dozen. */
const SCAN_MAX_DEPTH = 128

/**
 * For JSON text without a backslash (so without escapes: each string is its characters between two
 * quotes, as `JSON.stringify` writes it): where the top-level `signatures` member lies in the bytes
 * (`NO_MEMBER` without one), `NOT_CANONICAL` when the text is surely not canonical, undefined when
 * this scan cannot tell (a number other than a short integer, a key that is an array index).
 * Canonical here means what `formsOfCanonicalSource` asks: no whitespace, numbers as `JSON.stringify`
 * writes them, keys in order and each once (as many `:` as the parsed value has keys, since
 * `JSON.parse` keeps one of duplicates), no lone surrogate.
 */
function plainMember(source: RecordSource, raw: Record<string, unknown>): Member | undefined {
  const { text, bytes } = source
  const n = text.length
  let depth = 0
  let colons = 0
  let start = -1
  let end = -1
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const open = i
      i = text.indexOf('"', i + 1)
      if (i < 0) return undefined
      // A top-level key (after `{` or `,` at depth 1) spelled `signatures`.
      if (start < 0 && depth === 1 && i - open === 11 && text.startsWith('signatures":', open + 1)) {
        const before = text.charCodeAt(open - 1)
        if (before === OPEN_BRACE || before === COMMA) start = open
      }
    } else if (c === COLON) colons++
    else if (c === COMMA) {
      if (depth === 1 && start >= 0 && end < 0) end = i
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      // Deeper text is left to the reference (orderedKeys recurses once a level).
      if (++depth > SCAN_MAX_DEPTH) return undefined
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
      if (depth === 0 && start >= 0 && end < 0) end = i
    } else if (c === 0x74 || c === 0x6e)
      i += 3 // true, null
    else if (c === 0x66)
      i += 4 // false
    else {
      // A number, or whitespace (not canonical).
      let j = c === MINUS ? i + 1 : i
      const first = j
      while (j < n) {
        const d = text.charCodeAt(j)
        if (d < ZERO || d > NINE) break
        j++
      }
      const digits = j - first
      if (digits === 0) return c === MINUS ? undefined : NOT_CANONICAL
      // `JSON.stringify` writes an integer of up to 15 digits as they are, but never `-0` or `01`.
      const next = text.charCodeAt(j)
      if (digits > 15 || next === 0x2e || next === 0x65 || next === 0x45) return undefined
      if (text.charCodeAt(first) === ZERO && (digits > 1 || c === MINUS)) return NOT_CANONICAL
      i = j - 1
    }
  }
  const keys = orderedKeys(raw)
  if (keys === undefined) return undefined
  if (keys !== colons) return NOT_CANONICAL
  if (start < 0) return NO_MEMBER
  if (bytes.length === n) return [start, end]
  // Not ASCII: text offsets are not byte offsets.
  if (LONE_SURROGATE.test(text)) return NOT_CANONICAL
  const at = Buffer.byteLength(text.slice(0, start))
  return [at, at + Buffer.byteLength(text.slice(start, end))]
}

/**
 * How many keys the objects of a parsed JSON value have, if every object's keys are in UTF-16
 * code-unit order; `NaN` when they are not; undefined at a key that is an array index, which
 * objects list first whatever the order in the text was.
 */
function orderedKeys(value: object): number | undefined {
  let count = 0
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e: unknown = value[i]
      if (typeof e === 'object' && e !== null) {
        const k = orderedKeys(e)
        if (k === undefined) return undefined
        count += k
      }
    }
    return count
  }
  let previous: string | undefined
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return Number.NaN
    const first = key.charCodeAt(0)
    if (first >= ZERO && first <= NINE && /^[0-9]+$/.test(key)) return undefined
    previous = key
    count++
    const e: unknown = (value as Record<string, unknown>)[key]
    if (typeof e === 'object' && e !== null) {
      const k = orderedKeys(e)
      if (k === undefined) return undefined
      count += k
    }
  }
  return count
}

/** Whether `JSON.stringify(value)` is `text`; false when it throws (nesting too deep: the reference's to refuse). */
function stringifiesTo(value: unknown, text: string): boolean {
  try {
    return JSON.stringify(value) === text
  } catch {
    return false
  }
}

/** Whether the keys of every object in a parsed JSON value are in UTF-16 code-unit order. */
function keysSorted(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (v === null || typeof v !== 'object') continue
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i])
      continue
    }
    let previous: string | undefined
    for (const key in v) {
      if (previous !== undefined && !(previous < key)) return false
      previous = key
      stack.push((v as Record<string, unknown>)[key])
    }
  }
  return true
}

/**
 * Where the top-level member with `key` (its quoted name and colon) starts and ends in compact JSON
 * object bytes. UTF-8 never puts an ASCII byte inside a multi-byte character, so quotes, escapes and
 * brackets are found byte by byte.
 */
function topLevelMember(b: Uint8Array, key: Uint8Array): [number, number] | undefined {
  let depth = 0
  let inString = false
  let start = -1
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
      continue
    }
    if (c === QUOTE) {
      // At depth 1 a string right after `{` or `,` is a member name of the top-level object.
      if (start < 0 && depth === 1 && (b[i - 1] === OPEN_BRACE || b[i - 1] === COMMA) && at(b, i, key)) {
        start = i
        i += key.length - 1
        continue
      }
      inString = true
      continue
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
      if (depth === 0) return start < 0 ? undefined : [start, i]
    } else if (c === COMMA && depth === 1 && start >= 0) return [start, i]
  }
  return undefined
}

function at(b: Uint8Array, i: number, key: Uint8Array): boolean {
  if (i + key.length > b.length) return false
  for (let k = 0; k < key.length; k++) if (b[i + k] !== key[k]) return false
  return true
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}
