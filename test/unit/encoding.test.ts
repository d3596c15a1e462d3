import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as json from 'multiformats/codecs/json'
import { sha256 as multihashSha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  canonicalJsonBytes,
  stringifiesCanonically,
} from '../../src/encoding/canonicalJson.js'
import { digestBytes, jsonCid, jsonCidOfDigest, sha256 } from '../../src/encoding/jsonCid.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The reference: multiformats' CIDv1 of JSON bytes. */
function referenceCid(bytes: Uint8Array): string {
  const digest = multihashSha256.digest(bytes)
  if (digest instanceof Promise) throw new Error('sha256 must be synchronous on Node')
  return CID.createV1(json.code, digest).toString()
}

/** The same value with every object's keys in another order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i))
  if (value === null || typeof value !== 'object') return value
  const keys = Object.keys(value)
  const order = keys
    .map((k, i) => [((i + 1) * (seed + 7919)) % 104729, k] as const)
    .sort((a, b) => a[0] - b[0])
  return Object.fromEntries(
    order.map(([, k]) => [k, shuffleKeys((value as Record<string, unknown>)[k], seed + 1)]),
  )
}

/** JSON values with any string, astral characters included (no lone surrogates: they have no canonical form). */
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 6 }),
  ),
})).value

describe('the JSON CID', () => {
  it('is exactly what multiformats gives: CID.createV1(json.code, sha256.digest(bytes)) (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expect(jsonCid(bytes)).toBe(referenceCid(bytes))
        expect(jsonCidOfDigest(sha256(bytes))).toBe(referenceCid(bytes))
        expect(CID.parse(jsonCid(bytes)).multihash.digest).toEqual(
          new Uint8Array(createHash('sha256').update(bytes).digest()),
        )
      }),
      { numRuns: 500 },
    )
  })

  it('of a string is the CID of its UTF-8 bytes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(jsonCid(text)).toBe(referenceCid(enc.encode(text)))
      }),
      { numRuns: 300 },
    )
  })

  it('sha256 gives the digest as latin1 text, digestBytes its bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const expected = createHash('sha256').update(bytes).digest()
        expect(sha256(bytes)).toHaveLength(32)
        expect(digestBytes(sha256(bytes))).toEqual(expected)
      }),
      { numRuns: 200 },
    )
  })

  it('error: refuses a digest that is not 32 bytes', () => {
    expect(() => jsonCidOfDigest('abc')).toThrow(TypeError)
  })
})

describe('canonical JSON', () => {
  it('is what the canonicalize reference writes, for any JSON value in any key order (property)', () => {
    fc.assert(
      fc.property(anyJson, fc.nat(), (value, seed) => {
        const expected = canonicalize(value)
        expect(canonicalJson(value)).toBe(expected)
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(expected)
        expect(dec.decode(canonicalJsonBytes(value))).toBe(expected)
        // Read back, the canonical text takes the fast path and stays the same.
        const reread = JSON.parse(expected as string)
        expect(stringifiesCanonically(reread)).toBe(true)
        expect(canonicalJson(reread)).toBe(expected)
      }),
      { numRuns: 1000 },
    )
  })

  it('sorts keys by UTF-16 code units and writes numbers as RFC 8785 says', () => {
    expect(canonicalJson({ b: [1, 1e21, 0.1, -0], a: 'é', A: null, '\u20ac': true, '\ud83d\ude00': 1 })).toBe(
      '{"A":null,"a":"é","b":[1,1e+21,0.1,0],"€":true,"😀":1}',
    )
  })

  it('takes the fast path only when JSON.stringify is canonical', () => {
    expect(stringifiesCanonically({ a: 1, b: [true, null, 'x', { c: 0.5 }] })).toBe(true)
    expect(stringifiesCanonically({ b: 1, a: 2 })).toBe(false)
    expect(stringifiesCanonically({ '10': 1, '2': 2 })).toBe(false) // V8 enumerates integer keys first
    expect(stringifiesCanonically({ s: '\ud800' })).toBe(false)
    expect(stringifiesCanonically({ s: '\ud83d\ude00' })).toBe(true)
    expect(stringifiesCanonically({ n: Number.POSITIVE_INFINITY })).toBe(false)
    expect(stringifiesCanonically({ d: new Date(0) })).toBe(false)
    expect(stringifiesCanonically({ u: undefined })).toBe(false)
    expect(stringifiesCanonically(Object.assign(new Array(3), { 0: 1, 2: 2 }))).toBe(false) // a hole
    expect(canonicalJson({ d: new Date(0) })).toBe(canonicalize({ d: new Date(0) }))
  })

  it('error: refuses what has no canonical form with a TypeError that says why', () => {
    const refusal = (value: unknown) => {
      try {
        canonicalJson(value)
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError)
        return (err as Error).message
      }
      throw new Error('accepted')
    }
    expect(refusal({ n: Number.NaN })).toBe('NaN is not allowed')
    expect(refusal([Number.POSITIVE_INFINITY])).toBe('Infinity is not allowed')
    expect(refusal({ s: '\ud800' })).toBe('Lone surrogate is not allowed')
    expect(refusal({ b: 1n })).toMatch(/BigInt/)
    expect(refusal(undefined)).toBe('value has no JSON form')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(refusal(cyclic)).toBe('Circular reference detected')
  })
})
