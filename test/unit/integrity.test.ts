import { beforeAll, describe, expect, it } from 'vitest'
import { sha256 } from '../../src/encoding/jsonCid.js'
import { MAX_RECORD_BYTES } from '../../src/record/codec.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { checkIntegrity, type Integrity, keyObjects } from '../../src/trust/_integrity.js'
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
