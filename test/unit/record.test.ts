import fc from 'fast-check'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { canonicalBytes, MAX_RECORD_BYTES, recordId } from '../../src/record/codec.js'
import type { UnsignedRecord } from '../../src/record/schema.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, importSigner, type LocalSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { envelope, mutate, NOW, sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('canonical encoding', () => {
  it('sorts keys by UTF-16 code units and formats numbers as RFC 8785 says', () => {
    expect(
      dec.decode(
        canonicalBytes({ b: [1, 1e21, 0.1, -0], a: 'é', A: null, '\u20ac': true, '\ud83d\ude00': 1 }),
      ),
    ).toBe('{"A":null,"a":"é","b":[1,1e+21,0.1,0],"€":true,"😀":1}')
  })

  it('is stable: key order and whitespace of the input do not change the bytes or the id', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const a = canonicalBytes(value)
        const reparsed = JSON.parse(JSON.stringify(value, null, 2))
        const shuffled = shuffleKeys(reparsed)
        const b = canonicalBytes(shuffled)
        expect(b).toEqual(a)
        expect(recordId(b)).toBe(recordId(a))
        expect(canonicalBytes(JSON.parse(dec.decode(a)))).toEqual(a)
      }),
      { numRuns: 300 },
    )
  })

  it('gives a CIDv1 with the json codec and sha2-256', () => {
    const id = recordId(canonicalBytes({ a: 1 }))
    expect(id).toMatch(/^bagaaiera[a-z2-7]+$/)
  })

  it('error: refuses lone surrogates and non-finite numbers as malformed', () => {
    expect(() => canonicalBytes({ s: '\ud800' })).toThrow(
      expect.objectContaining({ code: 'E_RECORD_MALFORMED' }),
    )
    expect(() => canonicalBytes({ n: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'E_RECORD_MALFORMED' }),
    )
  })
})

function shuffleKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shuffleKeys)
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).reverse()
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v)]))
  }
  return value
}

describe('signing and verification', () => {
  let owner: LocalSigner
  let stranger: LocalSigner
  let verifier: RecordVerifier
  let good: EncodedRecord

  beforeAll(async () => {
    owner = await generateSigner()
    stranger = await generateSigner()
    verifier = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [owner.id] })], clock: fakeClock(NOW) })
    good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
  })

  it('verifies a record signed by the namespace owner and reports how', async () => {
    const v = await verifier.verify(good.bytes, { origin: 'test' })
    expect(v).toMatchObject({ id: good.id, keyId: owner.id, trustSource: 'pinned' })
    expect(v.record.versions['1.2.0']?.descriptor.allowedByDefault).toBe(false)
  })

  it('verifies the same record whatever its key order or whitespace (id from canonical bytes)', async () => {
    const pretty = enc.encode(JSON.stringify(shuffleKeys(JSON.parse(dec.decode(good.bytes))), null, 2))
    expect((await verifier.verify(pretty)).id).toBe(good.id)
  })

  it('supports key rotation: either of several owner keys verifies', async () => {
    const next = await generateSigner()
    const rotating = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id, next.id] })],
      clock: fakeClock(NOW),
    })
    const byNext = await signRecord({ ...sampleDraft(), ...envelope(2) }, next)
    expect((await rotating.verify(byNext.bytes)).keyId).toBe(next.id)
    expect((await rotating.verify(good.bytes)).keyId).toBe(owner.id)
    const coSigned = await signRecord({ ...byNext.record }, owner)
    expect(coSigned.record.signatures).toHaveLength(2)
    expect((await rotating.verify(coSigned.bytes)).id).toBe(coSigned.id)
  })

  it('re-signing by the same key replaces its signature, keeps the others, and needs no signatures field', async () => {
    const other = await generateSigner()
    const coSigned = await signRecord({ ...good.record }, other)
    expect(coSigned.record.signatures.map((s) => s.keyId)).toEqual([owner.id, other.id])
    const resigned = await signRecord({ ...coSigned.record, seq: 2 }, owner)
    expect(resigned.record.signatures.map((s) => s.keyId)).toEqual([other.id, owner.id])
    expect(await verifier.verify(resigned.bytes)).toMatchObject({ id: resigned.id, keyId: owner.id })
    const { signatures: _, ...unsigned } = good.record
    // A JavaScript caller may leave signatures out (the type asks for them); ed25519 signatures are
    // deterministic, so the same record signed again is the same bytes.
    const fresh = await signRecord(unsigned as unknown as UnsignedRecord, owner)
    expect(fresh.record.signatures).toEqual(good.record.signatures)
    expect(fresh.id).toBe(good.id)
  })

  it('exports and imports a signer as a JWK with the same id', async () => {
    const again = await importSigner(owner.exportJwk())
    expect(again.id).toBe(owner.id)
    const err = await rejection(importSigner({ ...owner.exportJwk(), kid: stranger.id }))
    expect(err.code).toBe('E_KEY_INVALID')
    expect((await rejection(importSigner({} as never))).code).toBe('E_KEY_INVALID')
  })

  it('error: E_SIGNATURE_INVALID when any byte of the signed content changes', async () => {
    const tampered = mutate(good.bytes, (raw) => {
      raw.description = 'Sharpen images!'
    })
    const err = await rejection(verifier.verify(tampered, { origin: 'git' }))
    expect(err.code).toBe('E_SIGNATURE_INVALID')
    expect(err.details).toMatchObject({ name: 'acme.com/image/sharpen', keyId: owner.id, origin: 'git' })
  })

  it('error: E_SIGNATURE_INVALID for a garbage signature of the right shape', async () => {
    const garbage = mutate(good.bytes, (raw) => {
      ;(raw.signatures as { sig: string }[])[0]!.sig = 'A'.repeat(86)
    })
    expect((await rejection(verifier.verify(garbage))).code).toBe('E_SIGNATURE_INVALID')
  })

  it('error: E_RECORD_SCHEMA for a signature of the wrong shape, naming the field', async () => {
    const garbage = mutate(good.bytes, (raw) => {
      ;(raw.signatures as { sig: string }[])[0]!.sig = 'not base64!'
    })
    const err = await rejection(verifier.verify(garbage))
    expect(err.code).toBe('E_RECORD_SCHEMA')
    expect(err.details.path).toBe('signatures[0].sig')
  })

  it('error: E_SIGNER_NOT_OWNER when signed by a key that does not own the namespace', async () => {
    const bySomeoneElse = await signRecord({ ...sampleDraft(), ...envelope() }, stranger)
    const err = await rejection(verifier.verify(bySomeoneElse.bytes))
    expect(err.code).toBe('E_SIGNER_NOT_OWNER')
    expect(err.details).toMatchObject({ namespace: 'acme.com', signedBy: [stranger.id] })
  })

  it('error: E_RECORD_UNSIGNED without signatures', async () => {
    const unsigned = mutate(good.bytes, (raw) => {
      raw.signatures = []
    })
    expect((await rejection(verifier.verify(unsigned))).code).toBe('E_RECORD_UNSIGNED')
  })

  it('error: E_NAMESPACE_UNOWNED when no trust source knows the namespace', async () => {
    const other = await signRecord(
      { ...sampleDraft('beta.org/x'), ...envelope(), namespace: 'beta.org' },
      owner,
    )
    expect((await rejection(verifier.verify(other.bytes))).code).toBe('E_NAMESPACE_UNOWNED')
  })

  it('error: E_RECORD_EXPIRED once expiresAt has passed, E_RECORD_NOT_YET_VALID far in the future', async () => {
    const clock = fakeClock(NOW + 2 * 86_400_000)
    const later = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [owner.id] })], clock })
    expect((await rejection(later.verify(good.bytes))).code).toBe('E_RECORD_EXPIRED')
    expect((await later.verify(good.bytes, { allowExpired: true })).id).toBe(good.id)
    clock.set(NOW - 3_600_000)
    expect((await rejection(later.verify(good.bytes))).code).toBe('E_RECORD_NOT_YET_VALID')
  })

  it('error: E_RECORD_TOO_LARGE before parsing, whatever the bytes', async () => {
    const huge = new Uint8Array(MAX_RECORD_BYTES + 1).fill(0x7b)
    const err = await rejection(verifier.verify(huge, { origin: 'peer' }))
    expect(err.code).toBe('E_RECORD_TOO_LARGE')
    expect(err.details).toMatchObject({ size: MAX_RECORD_BYTES + 1, limit: MAX_RECORD_BYTES, origin: 'peer' })
  })

  it.each([
    ['not JSON', enc.encode('{"name": '), 'E_RECORD_MALFORMED'],
    ['not UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d), 'E_RECORD_MALFORMED'],
    ['an array', enc.encode('[]'), 'E_RECORD_MALFORMED'],
    [
      'deeply nested',
      enc.encode(`{"extensions":{"x":${'['.repeat(20000)}${']'.repeat(20000)}}}`),
      'E_RECORD_SCHEMA',
    ],
    [
      'too many versions',
      enc.encode(
        JSON.stringify({
          versions: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`1.0.${i}`, {}])),
        }),
      ),
      'E_RECORD_LIMIT',
    ],
  ])('error: refuses %s with %s', async (_what, bytes, code) => {
    expect((await rejection(verifier.verify(bytes))).code).toBe(code)
  })

  it.each([
    ['seq of the wrong type', (r: Record<string, unknown>) => (r.seq = '7'), 'seq', 'expected number'],
    ['a negative seq', (r: Record<string, unknown>) => (r.seq = -1), 'seq', undefined],
    [
      'an unknown top-level field',
      (r: Record<string, unknown>) => (r.owner = 'me'),
      'owner',
      'unknown field (put extra data under "extensions")',
    ],
    [
      'a provider cost as a float',
      (r: Record<string, unknown>) =>
        ((r.versions as Record<string, { providers: { cost: unknown }[] }>)['1.2.0']!.providers[0]!.cost = {
          unit: 'USDC',
          baseUnits: '0.01',
        }),
      'versions["1.2.0"].providers[0].cost.baseUnits',
      undefined,
    ],
    [
      'a bad endpoint scheme',
      (r: Record<string, unknown>) =>
        ((r.versions as Record<string, { providers: { endpoint: string }[] }>)['1.2.0']!
          .providers[0]!.endpoint = 'ftp://x'),
      'versions["1.2.0"].providers[0].endpoint',
      undefined,
    ],
    [
      'a version key that is not semver',
      (r: Record<string, unknown>) => ((r.versions as Record<string, unknown>)['1.2'] = {}),
      'versions["1.2"]',
      undefined,
    ],
    [
      'an unknown risk tier',
      (r: Record<string, unknown>) =>
        ((r.versions as Record<string, { descriptor: { maxRisk: string } }>)['1.2.0']!.descriptor.maxRisk =
          'scary'),
      'versions["1.2.0"].descriptor.maxRisk',
      undefined,
    ],
    [
      'a namespace that does not match the name',
      (r: Record<string, unknown>) => (r.namespace = 'evil.com'),
      'namespace',
      undefined,
    ],
    [
      'a name that is not normalized',
      (r: Record<string, unknown>) => (r.name = 'ACME.com/image/sharpen'),
      'name',
      undefined,
    ],
    [
      'latestVersion not among versions',
      (r: Record<string, unknown>) => (r.latestVersion = '9.9.9'),
      'latestVersion',
      undefined,
    ],
    [
      'expiresAt before issuedAt',
      (r: Record<string, unknown>) => (r.expiresAt = '2000-01-01T00:00:00Z'),
      'expiresAt',
      undefined,
    ],
    [
      'issuedAt not a date',
      (r: Record<string, unknown>) => (r.issuedAt = 'yesterday'),
      'issuedAt',
      undefined,
    ],
  ])('error: E_RECORD_SCHEMA for %s, naming the field', async (_what, change, path, rule) => {
    const err = await rejection(verifier.verify(mutate(good.bytes, change)))
    expect(err.code).toBe('E_RECORD_SCHEMA')
    expect(err.details.path).toBe(path)
    if (rule !== undefined) expect(err.details.rule).toBe(rule)
  })

  it('error: refuses a record for another name than the one looked up', async () => {
    const err = await rejection(verifier.verify(good.bytes, { expectName: 'acme.com/image/blur' }))
    expect(err.code).toBe('E_RECORD_SCHEMA')
    expect(err.details.path).toBe('name')
  })

  it('keeps extensions: signed, carried, not interpreted', async () => {
    const withExt = await signRecord(
      { ...sampleDraft(), ...envelope(3), extensions: { 'x-team': 'imaging' } },
      owner,
    )
    expect((await verifier.verify(withExt.bytes)).record.extensions).toEqual({ 'x-team': 'imaging' })
  })

  it('refuses arbitrary bytes or JSON, always with a MeshError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue().map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
        ),
        async (bytes) => {
          // No arbitrary value carries an owner's signature, so every one is refused.
          await expect(verifier.verify(bytes)).rejects.toBeInstanceOf(MeshError)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('pins the message of a refusal', async () => {
    const bySomeoneElse = await signRecord({ ...sampleDraft(), ...envelope() }, stranger)
    const err = await rejection(verifier.verify(bySomeoneElse.bytes, { origin: 'memory' }))
    expect(err.message.replace(/did:key:\w+/g, 'did:key:K')).toMatchInlineSnapshot(`
      "Record acme.com/image/sharpen is not signed by an owner of namespace acme.com
        name: acme.com/image/sharpen
        namespace: acme.com
        signedBy: ["did:key:K"]
        origin: memory

      Sign with a publisher key of acme.com, or add the key to trust.owners['acme.com']."
    `)
  })
})

describe('the seen cache of the verifier', () => {
  it('re-checks time and ownership on a hit: an owner removed later is refused', async () => {
    const owner = await generateSigner()
    const owners: Record<string, string[]> = { 'acme.com': [owner.id] }
    const clock = fakeClock(NOW)
    const verifier = new RecordVerifier({
      trust: [{ id: 'mutable', publishersOf: (ns) => owners[ns] }],
      clock,
    })
    const good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    expect((await verifier.verify(good.bytes)).id).toBe(good.id)
    expect((await verifier.verify(good.bytes)).id).toBe(good.id)
    owners['acme.com'] = []
    expect((await rejection(verifier.verify(good.bytes))).code).toBe('E_SIGNER_NOT_OWNER')
    owners['acme.com'] = [owner.id]
    clock.advance(2 * 86_400_000)
    expect((await rejection(verifier.verify(good.bytes))).code).toBe('E_RECORD_EXPIRED')
  })

  it('checks a signature it skipped before when its key becomes an owner', async () => {
    const owner = await generateSigner()
    const other = await generateSigner()
    const owners: Record<string, string[]> = { 'acme.com': [owner.id] }
    const verifier = new RecordVerifier({
      trust: [{ id: 'mutable', publishersOf: (ns) => owners[ns] }],
      clock: fakeClock(NOW),
    })
    const signedByOwner = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    // A co-signature by `other` that is garbage: ignored while `other` is not an owner.
    const raw = JSON.parse(dec.decode(signedByOwner.bytes)) as { signatures: unknown[] }
    raw.signatures.push({ keyId: other.id, alg: 'ed25519', sig: 'A'.repeat(86) })
    const bytes = enc.encode(JSON.stringify(raw))
    expect((await verifier.verify(bytes)).keyId).toBe(owner.id)
    owners['acme.com'] = [owner.id, other.id]
    expect((await rejection(verifier.verify(bytes))).code).toBe('E_SIGNATURE_INVALID')
  })

  it('remember: false keeps a record out of the cache: the same bytes are parsed and checked again', async () => {
    const owner = await generateSigner()
    const verifier = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
    })
    const good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    const parse = vi.spyOn(JSON, 'parse')
    try {
      await verifier.verify(good.bytes, { remember: false })
      await verifier.verify(good.bytes, { remember: false })
      expect(parse).toHaveBeenCalledTimes(2)
      await verifier.verify(good.bytes)
      const hit = await verifier.verify(good.bytes, { remember: false })
      expect(parse).toHaveBeenCalledTimes(3)
      expect(hit.id).toBe(good.id)
    } finally {
      parse.mockRestore()
    }
  })

  it('verifyMany settles each record on its own, in input order', async () => {
    const owner = await generateSigner()
    const verifier = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
    })
    const good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    const results = await verifier.verifyMany([
      { bytes: good.bytes },
      { bytes: enc.encode('nope') },
      { bytes: good.bytes },
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'E_RECORD_MALFORMED' })
  })
})
