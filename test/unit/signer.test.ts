import { verify } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  generateSigner,
  importSigner,
  keyIdFromPublicKey,
  type LocalSigner,
  type PrivateKeyJwk,
  publicKeyFromKeyId,
  publicKeyObject,
} from '../../src/trust/signer.js'
import { rejection } from '../_helpers/rejection.js'

// Publisher keys and their did:key ids, each rule on both sides (found by `npm run mutate -- trust`:
// the fuzz suite covers these, but it is not part of a mutation run).

const didKey = (prefix: readonly number[], body: Uint8Array) =>
  `did:key:${base58btc.encode(Uint8Array.from([...prefix, ...body]))}`

describe('publisher keys', () => {
  let signer: LocalSigner
  let jwk: PrivateKeyJwk

  beforeAll(async () => {
    signer = await generateSigner()
    jwk = signer.exportJwk()
  })

  it('a signer is an ed25519 did:key whose signatures verify with its public key', async () => {
    expect(signer.alg).toBe('ed25519')
    expect(signer.id).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/)
    expect(signer.publicKey).toHaveLength(32)
    expect(jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid: signer.id })
    expect(Buffer.from(jwk.x, 'base64url')).toEqual(Buffer.from(signer.publicKey))
    const data = new TextEncoder().encode('payload')
    const sig = await signer.sign(data)
    expect(verify(null, data, publicKeyObject(signer.id)!, sig)).toBe(true)
    expect(verify(null, new TextEncoder().encode('other'), publicKeyObject(signer.id)!, sig)).toBe(false)
  })

  it('imports its JWK with or without kid, as the same signer', async () => {
    const { kid: _, ...bare } = jwk
    for (const input of [jwk, bare]) {
      const again = await importSigner(input)
      expect(again.id).toBe(signer.id)
      expect(again.exportJwk()).toEqual(jwk)
    }
  })

  it('error: refuses what is not an ed25519 private JWK with E_KEY_INVALID and the expected shape', async () => {
    const notJwks: unknown[] = [
      null,
      'a string',
      { ...jwk, kty: 'EC' },
      { ...jwk, crv: 'X25519' },
      { ...jwk, d: '' },
      { ...jwk, x: '' },
      { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
      { kty: 'OKP', crv: 'Ed25519', d: jwk.d },
    ]
    for (const input of notJwks) {
      const err = await rejection(importSigner(input as PrivateKeyJwk))
      expect(err.code, JSON.stringify(input)).toBe('E_KEY_INVALID')
      expect(err.message.split('\n')[0]).toBe('Not an ed25519 private key JWK')
      expect(err.details).toEqual({ expected: '{ kty: "OKP", crv: "Ed25519", x, d }' })
      expect(err.hint).toBe('Create a key with `fmesh keys new`.')
    }
  })

  it('error: a JWK whose key does not load, or whose kid names another key, is E_KEY_INVALID saying which', async () => {
    const broken = await rejection(importSigner({ ...jwk, d: 'AAAA' }))
    expect(broken.code).toBe('E_KEY_INVALID')
    expect(broken.message.split('\n')[0]).toBe('The ed25519 private key JWK does not load')
    expect(broken.cause).toBeInstanceOf(Error)
    const other = await generateSigner()
    const wrongKid = await rejection(importSigner({ ...jwk, kid: other.id }))
    expect(wrongKid.code).toBe('E_KEY_INVALID')
    expect(wrongKid.message.split('\n')[0]).toBe('The JWK kid does not match its public key')
    expect(wrongKid.details).toEqual({ kid: other.id, expected: signer.id })
  })

  it('reads the public key back out of a did:key id, and builds the same id from it', () => {
    const raw = publicKeyFromKeyId(signer.id)
    expect(raw).toEqual(signer.publicKey)
    expect(keyIdFromPublicKey(raw!)).toBe(signer.id)
    expect(didKey([0xed, 0x01], signer.publicKey)).toBe(signer.id)
    expect(publicKeyObject(signer.id)?.asymmetricKeyType).toBe('ed25519')
  })

  it('error: anything but a 32-byte ed25519 did:key gives no key (undefined, never a throw)', () => {
    const body = signer.publicKey
    const notEd25519 = [
      signer.id.replace('did:key:', 'did:web:'),
      // Not base58btc (the multibase prefix z is missing).
      `did:key:${signer.id.slice('did:key:z'.length)}`,
      'did:key:z0OIl',
      // Another multicodec: secp256k1 (0xe7), and ed25519's first byte with another second byte.
      didKey([0xe7, 0x01], body),
      didKey([0xed, 0x02], body),
      // The ed25519 multicodec with a key one byte short, and one byte long.
      didKey([0xed, 0x01], body.subarray(1)),
      didKey([0xed, 0x01], Uint8Array.from([...body, 0])),
      // Longer than any ed25519 did:key: not even decoded.
      `${signer.id}${'1'.repeat(64)}`,
    ]
    for (const id of notEd25519) {
      expect(publicKeyFromKeyId(id), id).toBeUndefined()
      expect(publicKeyObject(id), id).toBeUndefined()
    }
  })
})
