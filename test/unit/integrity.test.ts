import { beforeAll, describe, expect, it } from 'vitest'
import { sha256 } from '../../src/encoding/jsonCid.js'
import { MeshError } from '../../src/errors/base.js'
import { RecordLimitError, RecordMalformedError, RecordTooLargeError } from '../../src/errors/record.js'
import { MAX_RECORD_BYTES } from '../../src/record/codec.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { checkIntegrity, fromWire, type Integrity, keyObjects, toWire } from '../../src/trust/_integrity.js'
import { generateSigner, type LocalSigner, publicKeyObject } from '../../src/trust/signer.js'
import { envelope, sampleDraft } from '../_helpers/records.js'

// The integrity check itself (src/trust/_integrity.ts), as the workers and the main-thread fallback
// run it: which signatures it counts as good, on bytes no schema has checked yet. Found by
// `npm run mutate -- trust`: the verifier's schema check refuses these shapes before they get here,
// so only a direct test sees this function skip them instead of crashing or counting them.

const enc = new TextEncoder()
const dec = new TextDecoder()

function facts(result: Integrity) {
  if ('error' in result) throw new Error(`refused: ${result.error.code}`)
  return { id: result.id, good: [...result.good].sort() }
}

describe('checkIntegrity', () => {
  let owner: LocalSigner
  let cosigner: LocalSigner
  let good: EncodedRecord
  let raw: { signatures: unknown[] } & Record<string, unknown>
  const keyObject = (keyId: string) => publicKeyObject(keyId)

  beforeAll(async () => {
    owner = await generateSigner()
    cosigner = await generateSigner()
    good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    raw = JSON.parse(dec.decode(good.bytes)) as typeof raw
  })

  const bytesWith = (signatures: unknown) => enc.encode(JSON.stringify({ ...raw, signatures }))

  it('skips signatures of the wrong shape, by unknown key types, or not a list at all; counts the good one', async () => {
    const ownerSig = raw.signatures[0]
    const shapes = [
      [null, 7, 'sig', [], ownerSig],
      [{ keyId: 1, sig: 'x' }, { keyId: owner.id, sig: 5 }, { keyId: owner.id }, ownerSig],
      [{ keyId: 'did:web:acme.com', alg: 'ed25519', sig: 'A'.repeat(86) }, ownerSig],
    ]
    for (const signatures of shapes) {
      // The payload excludes signatures, so the owner's signature still verifies among the junk.
      const result = await checkIntegrity(bytesWith(signatures), MAX_RECORD_BYTES, { keyObject })
      expect(facts(result).good, JSON.stringify(signatures)).toEqual([owner.id])
    }
    for (const signatures of [null, 'sig', { keyId: owner.id }]) {
      const result = await checkIntegrity(bytesWith(signatures), MAX_RECORD_BYTES, { keyObject })
      expect(facts(result).good).toEqual([])
    }
  })

  it('checks only the keys asked for, when asked; every key otherwise', async () => {
    const cosigned = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    const both = JSON.parse(dec.decode(cosigned.bytes)) as { signatures: unknown[] }
    const second = JSON.parse(
      dec.decode((await signRecord({ ...sampleDraft(), ...envelope() }, cosigner)).bytes),
    )
    both.signatures.push(second.signatures[0])
    const bytes = enc.encode(JSON.stringify(both))
    expect(facts(await checkIntegrity(bytes, MAX_RECORD_BYTES, { keyObject })).good).toEqual(
      [owner.id, cosigner.id].sort(),
    )
    const onlyOwner = await checkIntegrity(bytes, MAX_RECORD_BYTES, { keyObject, keys: new Set([owner.id]) })
    expect(facts(onlyOwner).good).toEqual([owner.id])
    const none = await checkIntegrity(bytes, MAX_RECORD_BYTES, { keyObject, keys: new Set() })
    expect(facts(none).good).toEqual([])
  })

  it('a signature check that throws counts as a bad signature, not a refusal of the record', async () => {
    const result = await checkIntegrity(good.bytes, MAX_RECORD_BYTES, {
      keyObject,
      verify: () => {
        throw new Error('the check broke')
      },
    })
    expect(facts(result)).toEqual({ id: good.id, good: [] })
    const rejecting = await checkIntegrity(good.bytes, MAX_RECORD_BYTES, {
      keyObject,
      verify: () => Promise.reject(new Error('the pool broke')),
    })
    expect(facts(rejecting)).toEqual({ id: good.id, good: [] })
  })

  it('gives the same id from the source digest as from the canonical bytes', async () => {
    const withDigest = await checkIntegrity(good.bytes, MAX_RECORD_BYTES, {
      keyObject,
      digest: sha256(good.bytes),
    })
    expect(facts(withDigest)).toEqual({ id: good.id, good: [owner.id] })
    // Bytes that are not canonical: their digest is not the record's, so the id comes from the canonical form.
    const pretty = enc.encode(JSON.stringify(raw, null, 2))
    const fromPretty = await checkIntegrity(pretty, MAX_RECORD_BYTES, { keyObject, digest: sha256(pretty) })
    expect(facts(fromPretty)).toEqual({ id: good.id, good: [owner.id] })
  })
})

describe('keyObjects', () => {
  it('remembers keys and non-keys alike, within its bound', async () => {
    const signer = await generateSigner()
    const keys = keyObjects(1)
    const key = keys(signer.id)
    expect(key?.asymmetricKeyType).toBe('ed25519')
    expect(keys(signer.id)).toBe(key)
    expect(keys('did:web:acme.com')).toBeUndefined()
    expect(keys('did:web:acme.com')).toBeUndefined()
    // The bound of one pushed the signer's key out: it is built again, as an equal key.
    const again = keys(signer.id)
    expect(again).not.toBe(key)
    expect(again?.equals(key!)).toBe(true)
  })
})

describe('refusals on the wire (toWire, fromWire)', () => {
  // The workers send refusals in this form; toWire runs only in a worker thread, where a mutation
  // run cannot see it, so the round trip is checked here on this thread.
  const seen = (err: MeshError) => ({
    class: err.constructor.name,
    json: err.toJSON(),
    cause: err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message } : err.cause,
  })

  it('rebuilds each refusal with the same class, code, message, details and cause, origin added back', () => {
    const cause = Object.assign(new SyntaxError('Unexpected end of JSON input'), { name: 'SyntaxError' })
    const refusals: MeshError[] = [
      new RecordTooLargeError(70_000, 65_536, { origin: 'git' }),
      new RecordLimitError('versions', 600, 500, { origin: 'git' }),
      new RecordMalformedError('not JSON', { origin: 'git' }, cause),
      new RecordMalformedError('lone surrogate', { origin: 'git' }),
    ]
    for (const err of refusals) {
      const wire = toWire(err)
      expect(wire, err.message).toBeDefined()
      expect(JSON.parse(JSON.stringify(wire))).toEqual(wire)
      expect(seen(fromWire(wire!, 'git'))).toEqual(seen(err))
    }
    expect(toWire(refusals[0]!)).toEqual({ code: 'E_RECORD_TOO_LARGE', size: 70_000, limit: 65_536 })
    expect(toWire(refusals[1]!)).toEqual({ code: 'E_RECORD_LIMIT', path: 'versions', count: 600, limit: 500 })
    expect(toWire(refusals[2]!)).toEqual({
      code: 'E_RECORD_MALFORMED',
      reason: 'not JSON',
      cause: { name: 'SyntaxError', message: 'Unexpected end of JSON input' },
    })
    expect(toWire(refusals[3]!)).toEqual({ code: 'E_RECORD_MALFORMED', reason: 'lone surrogate' })
    // Without an origin, none is added.
    expect(fromWire(toWire(new RecordTooLargeError(2, 1))!, undefined).details).toEqual(
      new RecordTooLargeError(2, 1).details,
    )
  })

  it('has no wire form for an error the integrity check never settles with', () => {
    expect(toWire(new MeshError('E_OTHER', 'other'))).toBeUndefined()
  })
})
