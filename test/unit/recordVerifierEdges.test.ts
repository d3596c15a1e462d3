import { beforeAll, describe, expect, it } from 'vitest'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { DEFAULT_MAX_CLOCK_SKEW_MS, RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { envelope, NOW, sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

// The edges of the verifier's rules, each on both sides: where a window opens and closes, and the
// exact refusal (class, details, message) a caller and the CLI see. Found by mutation testing
// (`npm run mutate -- trust`): a rule off by one or a refusal with another message still passed.

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('RecordVerifier edges', () => {
  let owner: LocalSigner
  let good: EncodedRecord
  const expiresAt = Date.parse(envelope().expiresAt)
  const issuedAt = Date.parse(envelope().issuedAt)

  beforeAll(async () => {
    owner = await generateSigner()
    good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
  })

  const verifierAt = (now: number, extra: { maxClockSkewMs?: number } = {}) =>
    new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [owner.id] })], clock: fakeClock(now), ...extra })

  it('a record is valid until the millisecond before expiresAt, expired at it', async () => {
    expect((await verifierAt(expiresAt - 1).verify(good.bytes)).id).toBe(good.id)
    const err = await rejection(verifierAt(expiresAt).verify(good.bytes, { origin: 'git' }))
    expect(err.code).toBe('E_RECORD_EXPIRED')
    expect(err.details).toEqual({
      name: 'acme.com/image/sharpen',
      expiresAt: envelope().expiresAt,
      now: new Date(expiresAt).toISOString(),
      origin: 'git',
    })
    expect((await verifierAt(expiresAt).verify(good.bytes, { allowExpired: true })).id).toBe(good.id)
  })

  it('accepts issuedAt up to the clock skew ahead, inclusive; one millisecond more is not yet valid', async () => {
    const edge = issuedAt - DEFAULT_MAX_CLOCK_SKEW_MS
    expect(DEFAULT_MAX_CLOCK_SKEW_MS).toBe(300_000)
    expect((await verifierAt(edge).verify(good.bytes)).id).toBe(good.id)
    const err = await rejection(verifierAt(edge - 1).verify(good.bytes, { origin: 'peer' }))
    expect(err.code).toBe('E_RECORD_NOT_YET_VALID')
    expect(err.details).toEqual({
      name: 'acme.com/image/sharpen',
      issuedAt: envelope().issuedAt,
      now: new Date(edge - 1).toISOString(),
      origin: 'peer',
    })
    // A configured skew replaces the default.
    expect((await verifierAt(issuedAt - 10, { maxClockSkewMs: 10 }).verify(good.bytes)).id).toBe(good.id)
    const tight = await rejection(verifierAt(issuedAt - 11, { maxClockSkewMs: 10 }).verify(good.bytes))
    expect(tight.code).toBe('E_RECORD_NOT_YET_VALID')
  })

  it('error: a record for another name than the one looked up names both in its message', async () => {
    const err = await rejection(
      verifierAt(NOW).verify(good.bytes, { expectName: 'acme.com/image/blur', origin: 'git' }),
    )
    expect(err.code).toBe('E_RECORD_SCHEMA')
    expect(err.message).toContain('expected acme.com/image/blur, the name that was looked up')
    expect(err.details).toMatchObject({ path: 'name', origin: 'git' })
  })

  it('error: an owner key that is not an ed25519 did:key is refused as such, whatever its signature', async () => {
    // A trust source may name any key id (only pinned trust checks them): the verifier cannot check
    // a signature by it, and says so instead of calling the signature wrong.
    const other = 'did:web:acme.com#key-1'
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: unknown[] }
    raw.signatures = [{ keyId: other, alg: 'ed25519', sig: 'A'.repeat(86) }]
    const verifier = new RecordVerifier({
      trust: [{ id: 'custom', publishersOf: () => [other] }],
      clock: fakeClock(NOW),
    })
    const err = await rejection(verifier.verify(enc.encode(JSON.stringify(raw)), { origin: 'git' }))
    expect(err.code).toBe('E_SIGNATURE_INVALID')
    expect(err.message.split('\n')[0]).toBe(
      `Record acme.com/image/sharpen: the key id is not an ed25519 did:key (key ${other})`,
    )
    expect(err.details).toEqual({ name: 'acme.com/image/sharpen', keyId: other, origin: 'git' })
  })

  it('error: a forged owner signature says the signature does not match the record', async () => {
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: { sig: string }[] }
    raw.signatures[0]!.sig = 'A'.repeat(86)
    const err = await rejection(verifierAt(NOW).verify(enc.encode(JSON.stringify(raw))))
    expect(err.message.split('\n')[0]).toBe(
      `Record acme.com/image/sharpen: signature does not match the record (key ${owner.id})`,
    )
  })

  it('works without a seen cache (seenCacheSize 0): every verification checks the bytes again', async () => {
    const verifier = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
      seenCacheSize: 0,
    })
    expect((await verifier.verify(good.bytes)).id).toBe(good.id)
    expect((await verifier.verify(good.bytes)).id).toBe(good.id)
  })

  it('error: a configured maxBytes replaces the default limit, before parsing', async () => {
    const small = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
      maxBytes: 100,
    })
    const err = await rejection(small.verify(good.bytes, { origin: 'git' }))
    expect(err.code).toBe('E_RECORD_TOO_LARGE')
    expect(err.details).toMatchObject({ size: good.bytes.byteLength, limit: 100, origin: 'git' })
  })
})
