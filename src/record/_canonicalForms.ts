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
 * themselves, `payload` the domain prefix and the bytes without the top-level `signatures` member,
 * found by one scan. The bytes are canonical when `JSON.stringify` of the value parsed from them
 * gives the same text back (RFC 8785 writes strings and numbers as it does), with the keys of every
 * object in UTF-16 code-unit order and no lone surrogate (which `JSON.stringify` writes as a `\ud...`
 * escape, and RFC 8785 refuses). Undefined when they are not, and `recordForms` (the reference this
 * is property-tested against) does the work.
 */
export function formsOfCanonicalSource(
  source: RecordSource,
  raw: Record<string, unknown>,
  domain: Uint8Array,
): { payload: Uint8Array; canonical: Uint8Array } | undefined {
  const { bytes, text } = source
  if (text.includes('\\ud') || !stringifiesTo(raw, text) || !keysSorted(raw)) return undefined
  const member = topLevelMember(bytes, SIGNATURES_KEY)
  let payload: Uint8Array
  if (member === undefined) payload = concat(domain, bytes)
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
