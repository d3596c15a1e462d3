import canonicalize from 'canonicalize'

const encoder = new TextEncoder()

/**
 * The RFC 8785 (JCS) canonical JSON text of a value. When `JSON.stringify` already writes the
 * canonical form ({@link stringifiesCanonically}: the common case, records and entries stored
 * canonical or built with their keys in order) it does the work; otherwise the `canonicalize`
 * library, the reference this fast path is property-tested against. A value with no canonical form
 * (a non-finite number, a lone surrogate, a cycle, nesting too deep, nothing JSON can hold) throws a
 * `TypeError` whose message says why and whose `cause` is the original error.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, 'x'] }) // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined
  try {
    text = stringifiesCanonically(value) ? JSON.stringify(value) : canonicalize(value)
  } catch (err) {
    throw new TypeError(err instanceof RangeError ? 'nested too deeply' : (err as Error).message, {
      cause: err,
    })
  }
  if (text === undefined) throw new TypeError('value has no JSON form')
  return text
}

/** {@link canonicalJson} as UTF-8 bytes. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value))
}

const SURROGATE = /[\ud800-\udfff]/
const WELL_FORMED = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/

/**
 * Whether `JSON.stringify(value)` already is the RFC 8785 form of `value`: plain objects whose keys
 * enumerate in UTF-16 code-unit order at every level, finite numbers, no lone surrogates, nothing
 * JSON cannot hold. RFC 8785 writes strings and numbers exactly as `JSON.stringify` does, so then the
 * two agree and the native serializer does the work. Any doubt answers false (and the reference
 * library does the work).
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
      if (SURROGATE.test(v) && !WELL_FORMED.test(v)) return false
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
      if (SURROGATE.test(key) && !WELL_FORMED.test(key)) return false
      const child = (v as Record<string, unknown>)[key]
      if (child === undefined) return false
      stack.push(child)
    }
  }
  return true
}
