import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ResolutionCache } from '../../src/cache/ResolutionCache.js'
import { canonicalBytes, canonicalText } from '../../src/record/codec.js'
import { validateRecord } from '../../src/record/validate.js'
import type { VerifiedRecord } from '../../src/trust/RecordVerifier.js'
import { fakeClock } from '../_helpers/clock.js'
import { envelope, NOW, sampleDraft } from '../_helpers/records.js'

// The cache keeps one shared, parsed form of each record instead of the parsed record and its
// canonical bytes (STYLE 7a): checked against the verified record it replaces, the reference.

const enc = new TextEncoder()

const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('__proto__', 'type', 'id')),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value

/** A valid record as JSON: a few schemas and providers drawn from small pools, so some repeat. */
const rawRecord = fc
  .record({
    seq: fc.nat({ max: 50 }),
    name: fc.constantFrom('a', 'b', 'c', 'd'),
    schemaExtra: fc.option(fc.dictionary(fc.constantFrom('x', 'y', '__proto__'), anyJson, { maxKeys: 2 }), {
      nil: undefined,
    }),
    endpoint: fc.constantFrom('https://p1.example/f', 'https://p2.example/f', 'local:f'),
    dropDefaults: fc.boolean(),
    extensions: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 2 }), {
      nil: undefined,
    }),
  })
  .map(({ seq, name, schemaExtra, endpoint, dropDefaults, extensions }) => {
    const raw = JSON.parse(
      JSON.stringify({ ...sampleDraft(`acme.com/image/${name}`), ...envelope(seq) }),
    ) as Record<string, unknown> & { versions: Record<string, Record<string, unknown>> }
    for (const version of Object.values(raw.versions)) {
      const descriptor = version.descriptor as { inputSchema: { properties: Record<string, unknown> } }
      if (schemaExtra !== undefined) descriptor.inputSchema.properties.extra = schemaExtra
      ;(version.providers as { endpoint: string }[])[0]!.endpoint = endpoint
      // A record without its defaults is parsed by zod, which adds them: it no longer re-encodes.
      if (dropDefaults) delete version.yanked
    }
    if (extensions !== undefined) raw.extensions = extensions
    raw.signatures = [{ keyId: 'did:key:z6Mk', alg: 'ed25519', sig: 'A'.repeat(86) }]
    return raw
  })

function verified(raw: Record<string, unknown>): VerifiedRecord {
  // As a registry hands them over: the bytes as stored (canonical), the record as validated.
  const bytes = canonicalBytes(raw)
  const record = validateRecord(JSON.parse(new TextDecoder().decode(bytes)))
  return {
    record,
    id: `id-${canonicalText(raw).length}`,
    bytes,
    keyId: 'did:key:z6Mk',
    trustSource: 'pinned',
  }
}

describe('resolution cache: one shared form per record', () => {
  it('holds a record equal to the verified one and gives back exactly its verified bytes', () => {
    fc.assert(
      fc.property(fc.array(rawRecord, { minLength: 1, maxLength: 6 }), (raws) => {
        const cache = new ResolutionCache(fakeClock(NOW))
        const inputs = raws.map(verified)
        const copies = inputs.map((v) => structuredClone(v.record))
        const entries = inputs.map((v, i) => cache.setFound(`acme.com/n${i}`, v, 'reg'))
        entries.forEach((entry, i) => {
          const input = inputs[i]!
          expect(entry.record).toStrictEqual(input.record)
          expect(canonicalText(entry.record)).toBe(canonicalText(input.record))
          expect(cache.bytesOf(entry)).toEqual(input.bytes)
          expect(entry.id).toBe(input.id)
          expect(entry.verification).toMatchObject({ keyId: input.keyId, trustSource: input.trustSource })
          // The caller's record is neither frozen nor changed under it.
          expect(Object.isFrozen(input.record)).toBe(false)
          expect(input.record).toStrictEqual(copies[i])
        })
      }),
      { numRuns: 100 },
    )
  })

  it('shares equal descriptors and providers between entries, frozen, so no entry can change another', () => {
    fc.assert(
      fc.property(rawRecord, fc.nat({ max: 100 }), (raw, seq) => {
        const cache = new ResolutionCache(fakeClock(NOW))
        const a = cache.setFound('acme.com/a', verified(raw), 'reg')
        const b = cache.setFound('acme.com/b', verified({ ...raw, seq: seq + 1000 }), 'reg')
        for (const version of Object.keys(a.record.versions)) {
          const va = a.record.versions[version]!
          const vb = b.record.versions[version]!
          expect(vb.descriptor).toBe(va.descriptor)
          expect(vb.providers).toBe(va.providers)
          expect(Object.isFrozen(va.descriptor)).toBe(true)
          expect(Object.isFrozen(va.providers[0])).toBe(true)
          expect(() => {
            ;(va.providers as { id: string }[])[0]!.id = 'changed'
          }).toThrow(TypeError)
        }
        expect(b.record.seq).toBe(seq + 1000)
        expect(cache.bytesOf(b)).toEqual(canonicalBytes({ ...raw, seq: seq + 1000 }))
      }),
      { numRuns: 100 },
    )
  })

  it('keeps the bytes of a record that would not re-encode to them, and only then', () => {
    const cache = new ResolutionCache(fakeClock(NOW))
    const raw = JSON.parse(JSON.stringify({ ...sampleDraft('acme.com/image/x'), ...envelope(1) }))
    raw.signatures = [{ keyId: 'did:key:z6Mk', alg: 'ed25519', sig: 'A'.repeat(86) }]
    const exact = verified(raw)
    expect(cache.setFound('acme.com/image/x', exact, 'reg').bytes).toBeUndefined()
    // Bytes that are not the canonical form of a record the schema did not take as parsed (here:
    // spaces) are kept as they were given.
    const spaced = enc.encode(JSON.stringify(raw, null, 1))
    const record = JSON.parse(JSON.stringify(exact.record))
    const entry = cache.setFound('acme.com/image/y', { ...exact, record, bytes: spaced }, 'reg')
    expect(entry.bytes).toBe(spaced)
    expect(cache.bytesOf(entry)).toBe(spaced)
  })

  it('keeps an own __proto__ key of a shared subtree as a key', () => {
    const cache = new ResolutionCache(fakeClock(NOW))
    const raw = JSON.parse(JSON.stringify({ ...sampleDraft('acme.com/image/x'), ...envelope(1) }))
    raw.signatures = [{ keyId: 'did:key:z6Mk', alg: 'ed25519', sig: 'A'.repeat(86) }]
    raw.versions['1.2.0'].descriptor.inputSchema = JSON.parse(
      '{"__proto__":{"polluted":true},"type":"object"}',
    )
    // Parsed without the schema (which rebuilds such a map): the sharing itself must keep the key.
    const bytes = canonicalBytes(raw)
    const record = JSON.parse(new TextDecoder().decode(bytes))
    const input: VerifiedRecord = { record, id: 'id', bytes, keyId: 'did:key:z6Mk', trustSource: 'pinned' }
    const given = input.record.versions['1.2.0']!.descriptor.inputSchema as Record<string, unknown>
    expect(Object.keys(given)).toContain('__proto__')
    const entry = cache.setFound('acme.com/image/x', input, 'reg')
    const schema = entry.record.versions['1.2.0']!.descriptor.inputSchema as Record<string, unknown>
    expect(Object.keys(schema)).toContain('__proto__')
    expect(Object.getPrototypeOf(schema)).toBe(Object.prototype)
    expect(cache.bytesOf(entry)).toEqual(input.bytes)
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
  })
})
