import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCid } from '../../src/encoding/jsonCid.js'
import { sealEntry } from '../../src/ledger/_sealEntry.js'
import { leafHash } from '../../src/ledger/merkle.js'
import { canonicalBytes, recordId } from '../../src/record/codec.js'

const field = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.jsonValue(),
)
const fields = fc.record(
  {
    type: fc.constantFrom('FUNCTION_INVOKED', 'FUNCTION_COMPLETED', 'FUNCTION_FAILED'),
    invocation: fc.string(),
    attempt: fc.integer(),
    function: field,
    charge: field,
    error: field,
    trigger: field,
    reason: field,
    recovered: field,
    quantity: field,
  },
  { requiredKeys: ['type', 'invocation'] },
)

const str = fc.string({ unit: 'binary' })
const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
const base = { invocation: str, attempt: num, function: str, version: str, provider: str, principal: str }
const wellFormed = fc.oneof(
  fc.record(
    {
      ...base,
      type: fc.constant('FUNCTION_INVOKED'),
      endpoint: str,
      recordId: str,
      reason: str,
      inputCid: str,
      idempotencyClass: str,
      idempotencyKey: str,
      traceparent: str,
      lease: str,
      trigger: fc.record({ kind: str, eventCid: str }),
    },
    {
      requiredKeys: [
        'type',
        'invocation',
        'attempt',
        'function',
        'version',
        'provider',
        'principal',
        'endpoint',
        'recordId',
        'reason',
        'inputCid',
        'idempotencyClass',
        'traceparent',
      ],
    },
  ),
  fc.record({
    ...base,
    type: fc.constant('FUNCTION_COMPLETED'),
    invoked: str,
    outputCid: str,
    durationMs: num,
    quantity: str,
    charge: fc.record({ amount: str, currency: fc.option(str) }),
  }),
  fc.record(
    {
      ...base,
      type: fc.constant('FUNCTION_FAILED'),
      invoked: str,
      error: fc.record({ code: str, message: str }),
      sent: fc.boolean(),
      durationMs: num,
      recovered: fc.constant(true),
    },
    {
      requiredKeys: [
        'type',
        'invocation',
        'attempt',
        'function',
        'version',
        'provider',
        'principal',
        'invoked',
        'error',
        'sent',
        'durationMs',
      ],
    },
  ),
)

describe('sealing lineage entries', () => {
  it('writes each entry type exactly as the RFC 8785 reference does, optional fields or not', () => {
    fc.assert(
      fc.property(wellFormed, fc.nat(), fc.option(str), fc.nat(), (f, seq, prev, at) => {
        const sealed = sealEntry(f.type, f, seq, prev, at)
        const expected = canonicalBytes({ ...f, v: 1, seq, prev, at })
        expect(new Uint8Array(sealed.bytes)).toEqual(expected)
        expect(sealed.id).toBe(recordId(expected))
        expect(new Uint8Array(sealed.leaf)).toEqual(leafHash(expected))
      }),
      { numRuns: 600 },
    )
  })

  it('writes the RFC 8785 bytes of the entry, its CID and its leaf hash, for any field values', () => {
    fc.assert(
      fc.property(fields, fc.nat(), fc.option(fc.string()), fc.nat(), (f, seq, prev, at) => {
        const sealed = sealEntry(f.type, f, seq, prev, at)
        const expected = canonicalBytes({ ...f, v: 1, seq, prev, at })
        expect(new Uint8Array(sealed.bytes)).toEqual(expected)
        expect(sealed.id).toBe(recordId(expected))
        expect(sealed.id).toBe(jsonCid(expected))
        expect(new Uint8Array(sealed.leaf)).toEqual(leafHash(expected))
        const text = new TextDecoder().decode(sealed.bytes)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(sealed.entry)))
      }),
      { numRuns: 400 },
    )
  })

  it('takes the general canonicalizer for fields it does not know', () => {
    const sealed = sealEntry('FUNCTION_FAILED', { zeta: { b: 1, a: [2, { d: 1, c: 0 }] } }, 0, null, 5)
    expect(new TextDecoder().decode(sealed.bytes)).toBe(
      '{"at":5,"prev":null,"seq":0,"type":"FUNCTION_FAILED","v":1,"zeta":{"a":[2,{"c":0,"d":1}],"b":1}}',
    )
  })

  it('error: refuses a non-finite number like the canonicalizer', () => {
    expect(() => sealEntry('FUNCTION_FAILED', { durationMs: Number.NaN }, 0, null, 5)).toThrow(TypeError)
  })
})
