import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formsOfCanonicalSource } from '../../src/record/_canonicalForms.js'
import { schemaAcceptsAsIs } from '../../src/record/_schemaFastPath.js'
import { canonicalBytes, RECORD_SIGNING_DOMAIN, recordForms } from '../../src/record/codec.js'
import { FunctionRecordSchema } from '../../src/record/schema.js'
import { signRecord } from '../../src/record/signRecord.js'
import { validateRecord } from '../../src/record/validate.js'
import { generateSigner } from '../../src/trust/signer.js'
import { envelope, sampleDraft } from '../_helpers/records.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const DOMAIN = enc.encode(RECORD_SIGNING_DOMAIN)

const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('', 'ed25519', '1.2.0', 'x'.repeat(300), 'https://a.example/x', 'read-only', '__proto__'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('__proto__', 'signatures', 'id')),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
})).value

/** A valid record as JSON (parsed from its canonical bytes), of a few shapes. */
const validRecord = fc
  .record({
    seq: fc.nat({ max: 1_000 }),
    optional: fc.subarray(['description', 'latestVersion', 'securityRequirements'] as const),
    extensions: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 }), {
      nil: undefined,
    }),
  })
  .map(({ seq, optional, extensions }) => {
    const draft = sampleDraft(`acme.com/image/fn-${seq}`)
    const raw = JSON.parse(
      JSON.stringify({ ...draft, ...envelope(seq), ...(extensions === undefined ? {} : { extensions }) }),
    ) as Record<string, unknown>
    for (const key of ['description', 'latestVersion', 'securityRequirements'])
      if (!optional.includes(key as never)) delete raw[key]
    raw.signatures = [{ keyId: 'did:key:z6Mk', alg: 'ed25519', sig: 'A'.repeat(86) }]
    return raw
  })

/** Replaces the value at a random path of `value` (or deletes it, or adds a key there). */
function mutateAt(value: unknown, steps: readonly number[], replacement: unknown, op: number): unknown {
  const copy = structuredClone(value)
  let node = copy as Record<string, unknown> | unknown[]
  for (let s = 0; s < steps.length; s++) {
    if (node === null || typeof node !== 'object') break
    const keys = Object.keys(node)
    if (keys.length === 0) break
    const key = keys[steps[s]! % keys.length]!
    const child = (node as Record<string, unknown>)[key]
    const last = s === steps.length - 1 || child === null || typeof child !== 'object'
    if (last) {
      if (op === 0 && !Array.isArray(node)) delete (node as Record<string, unknown>)[key]
      else if (op === 1 && !Array.isArray(node)) (node as Record<string, unknown>).zzExtra = replacement
      else (node as Record<string, unknown>)[key] = replacement
      break
    }
    node = child as Record<string, unknown>
  }
  return copy
}

const mutatedRecord = fc
  .tuple(validRecord, fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), anyJson, fc.nat({ max: 3 }))
  .map(([raw, steps, replacement, op]) => mutateAt(raw, steps, replacement, op))

describe('schema fast path (property: the zod schema is the reference)', () => {
  it('accepts a value only when zod accepts it and returns an equal value', () => {
    fc.assert(
      fc.property(fc.oneof(validRecord, mutatedRecord, mutatedRecord, anyJson), (raw) => {
        if (!schemaAcceptsAsIs(raw)) return
        const result = FunctionRecordSchema.safeParse(raw)
        expect(result.success).toBe(true)
        expect(result.data).toStrictEqual(raw)
      }),
      { numRuns: 2000 },
    )
  })

  it('takes the records a publisher writes (the fast path is the common one)', async () => {
    const signer = await generateSigner()
    for (const name of ['acme.com/image/sharpen', 'acme.com/a']) {
      const { bytes } = await signRecord({ ...sampleDraft(name), ...envelope(3) }, signer)
      expect(schemaAcceptsAsIs(JSON.parse(dec.decode(bytes)))).toBe(true)
    }
    fc.assert(fc.property(validRecord, (raw) => schemaAcceptsAsIs(raw)))
  })

  it('leaves refusals to zod: validateRecord names the same field and rule either way', () => {
    fc.assert(
      fc.property(mutatedRecord, (raw) => {
        let fast: unknown
        let reference: unknown
        try {
          fast = validateRecord(raw)
        } catch (err) {
          fast = (err as Error).message
        }
        const parsed = FunctionRecordSchema.safeParse(raw)
        try {
          reference = parsed.success ? validateRecord(parsed.data) : 'refused'
        } catch (err) {
          reference = (err as Error).message
        }
        if (!parsed.success) expect(typeof fast).toBe('string')
        else expect(fast).toStrictEqual(reference)
      }),
      { numRuns: 500 },
    )
  })
})

describe('canonical forms from canonical bytes (property: recordForms is the reference)', () => {
  const objects = fc.oneof(
    validRecord,
    mutatedRecord,
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), anyJson, { maxKeys: 6 }),
  )
  /** The value written canonically, as JSON.stringify writes it, or with whitespace. */
  const written = fc.tuple(objects, fc.nat({ max: 2 })).map(([raw, how]) => {
    const text =
      how === 0
        ? dec.decode(canonicalBytes(raw))
        : how === 1
          ? JSON.stringify(raw)
          : JSON.stringify(raw, null, 1)
    return { raw, text }
  })

  it('gives the reference forms whenever it answers, and answers for canonical bytes', () => {
    fc.assert(
      fc.property(written, ({ raw, text }) => {
        const bytes = enc.encode(text)
        const parsed = JSON.parse(text) as Record<string, unknown>
        const fast = formsOfCanonicalSource({ bytes, text }, parsed, DOMAIN)
        const reference = recordForms(parsed)
        if (fast !== undefined) {
          expect(Buffer.from(fast.payload).equals(Buffer.from(reference.payload))).toBe(true)
          expect(Buffer.from(fast.canonical).equals(Buffer.from(reference.canonical))).toBe(true)
        }
        // Canonical bytes that JSON.stringify writes back alike (no integer-like keys, which JSON.parse
        // moves first; no lone surrogates) take the fast path.
        const native = JSON.stringify(parsed) === text && !/\\ud[89a-f]/.test(text)
        if (native && Buffer.from(bytes).equals(Buffer.from(canonicalBytes(raw)))) expect(fast).toBeDefined()
      }),
      { numRuns: 2000 },
    )
  })

  /** Reference forms, or undefined where the reference refuses (a lone surrogate). */
  const referenceOf = (parsed: Record<string, unknown>) => {
    try {
      return recordForms(parsed)
    } catch {
      return undefined
    }
  }
  const sameForms = (written: string) => {
    // As the codec sees text: decoded from its UTF-8 (an edit may have split a surrogate pair).
    const bytes = enc.encode(written)
    const text = dec.decode(bytes)
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(text) as Record<string, unknown>
    } catch {
      return
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return
    const fast = formsOfCanonicalSource({ bytes, text }, parsed, DOMAIN)
    if (fast === undefined) return
    const reference = referenceOf(parsed)
    expect(reference).toBeDefined()
    expect(Buffer.from(fast.payload).equals(Buffer.from(reference!.payload))).toBe(true)
    expect(Buffer.from(fast.canonical).equals(Buffer.from(reference!.canonical))).toBe(true)
  }

  it('gives the reference forms for canonical text with one edit (whitespace, numbers, keys, escapes)', () => {
    const edit = fc.tuple(
      fc.nat(),
      fc.nat({ max: 2 }),
      fc.constantFrom(
        ' ',
        '\n',
        '0',
        '1',
        '-',
        '.',
        'e',
        'E',
        '+',
        ',',
        ':',
        '"',
        '\\',
        'é',
        '😀',
        '"1":0,',
        '"a":1,',
      ),
      fc.nat({ max: 40 }),
    )
    fc.assert(
      fc.property(objects, fc.array(edit, { minLength: 1, maxLength: 3 }), (raw, edits) => {
        let text = dec.decode(canonicalBytes(raw))
        for (const [at, op, insert, length] of edits) {
          const i = at % (text.length + 1)
          if (op === 0) text = text.slice(0, i) + insert + text.slice(i)
          else if (op === 1) text = text.slice(0, i) + text.slice(i + 1)
          else text = text.slice(0, i) + text.slice(i, i + length) + text.slice(i)
        }
        sameForms(text)
      }),
      { numRuns: 3000 },
    )
  })

  it('takes only canonical text: numbers, whitespace, duplicate and index keys, non-ASCII', () => {
    const sig = '"signatures":[{"alg":"ed25519"}]'
    const canonical = [
      `{"a":100,"n":-12,${sig},"z":[true,false,null]}`,
      `{"d":"Schärfe 😀 \u2028",${sig},"v":{"1.0.0":{}}}`,
      `{${sig}}`,
      `{${sig},"t":1}`,
      `{"a":1234567890123456,"b":0.5,"c":-1e-7,${sig}}`,
      String.raw`{"a":"\\\"\n\u001f",${sig}}`,
    ]
    for (const text of canonical) {
      sameForms(text)
      const bytes = enc.encode(text)
      expect(formsOfCanonicalSource({ bytes, text }, JSON.parse(text), DOMAIN)).toBeDefined()
    }
    const not = [
      `{"a":1e2,${sig}}`,
      `{"a":1.0,${sig}}`,
      `{"a":-0,${sig}}`,
      `{"a":12 ,${sig}}`,
      `{"a":1,"a":1,${sig}}`,
      `{"b":1,"1":2,${sig}}`,
      `{"1":2,"b":1,"1":3,${sig}}`,
      `{"b":1,"a":1,${sig}}`,
      `{"a":1, ${sig}}`,
      String.raw`{"a":"\u0041",${sig}}`,
      String.raw`{"a":"\/",${sig}}`,
      String.raw`{"a":"\ud800",${sig}}`,
      `{"a":12345678901234567890,${sig}}`,
    ]
    for (const text of not) {
      sameForms(text)
      const bytes = enc.encode(text)
      expect(formsOfCanonicalSource({ bytes, text }, JSON.parse(text), DOMAIN)).toBeUndefined()
    }
  })

  it('error: text nested past the scan (20,000 levels) goes to the reference and never overflows the stack', () => {
    const sig = '"signatures":[{"alg":"ed25519"}]'
    for (const depth of [127, 20_000]) {
      const text = `{"a":${'['.repeat(depth)}${']'.repeat(depth)},${sig}}`
      const bytes = enc.encode(text)
      const parsed = JSON.parse(text)
      expect(() => formsOfCanonicalSource({ bytes, text }, parsed, DOMAIN)).not.toThrow()
    }
    const shallow = `{"a":${'['.repeat(100)}${']'.repeat(100)},${sig}}`
    sameForms(shallow)
  })

  it('drops the top-level signatures member wherever it sits, never a nested one', () => {
    for (const raw of [
      { signatures: [1], z: { signatures: [2] } },
      { a: { signatures: [] }, signatures: [{ k: '"signatures":' }] },
      { a: '","signatures":[]', signatures: [] },
      { signatures: 'only' },
      { a: 1 },
    ]) {
      const bytes = canonicalBytes(raw)
      const fast = formsOfCanonicalSource(
        { bytes, text: dec.decode(bytes) },
        JSON.parse(dec.decode(bytes)),
        DOMAIN,
      )
      expect(dec.decode(fast!.payload)).toBe(dec.decode(recordForms(raw).payload))
    }
  })
})

describe('schema fast path (examples)', () => {
  it('leaves objects JSON.parse would not make (no Object.prototype) to zod, which copies them', async () => {
    const signer = await generateSigner()
    const { bytes } = await signRecord({ ...sampleDraft(), ...envelope(1) }, signer)
    const record = JSON.parse(dec.decode(bytes)) as Record<string, unknown>
    expect(schemaAcceptsAsIs(record)).toBe(true)
    const bare = { ...record, extensions: Object.create(null) }
    expect(schemaAcceptsAsIs(bare)).toBe(false)
    expect(validateRecord(bare)).toStrictEqual(FunctionRecordSchema.parse(bare))
  })
})
