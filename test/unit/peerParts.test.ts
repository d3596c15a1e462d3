import { describe, expect, it } from 'vitest'
import { Intake } from '../../node/_intake.js'
import { rateLimiter } from '../../node/_rateLimiter.js'
import { bucketOf, RecordStore, SYNC_BUCKETS } from '../../node/recordStore.js'
import { signRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { watchQueue } from '../../src/registry/watchQueue.js'
import type { VerifiedRecord } from '../../src/trust/RecordVerifier.js'
import { generateSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { mutate, sampleDraft, signed } from '../_helpers/records.js'

/** What the verifier returns, as far as the store reads it. */
const record = (name: string, seq: number, expiresAt = 8.64e15) =>
  ({
    record: { name, seq, expiresAt: new Date(expiresAt).toISOString() },
    id: `id-${name}-${seq}`,
    bytes: new Uint8Array([seq]),
    keyId: 'did:key:test',
    trustSource: 'test',
  }) as unknown as VerifiedRecord

describe('peer node parts', () => {
  it('buckets names stably, over every bucket', () => {
    expect(bucketOf('acme.com/image/sharpen')).toBe(bucketOf('acme.com/image/sharpen'))
    const used = new Set(Array.from({ length: 5000 }, (_, i) => bucketOf(`ns.example/fn-${i}`)))
    expect(used.size).toBe(SYNC_BUCKETS)
  })

  it('the summary changes only in the bucket of a changed name, and equal stores have equal summaries', () => {
    const a = new RecordStore(100)
    const b = new RecordStore(100)
    for (let i = 0; i < 50; i++) {
      a.put(record(`ns.example/fn-${i}`, 1), 0)
      b.put(record(`ns.example/fn-${49 - i}`, 1), 0)
    }
    expect(a.summary()).toEqual(b.summary())
    const before = a.summary()
    a.put(record('ns.example/fn-7', 2), 0)
    const after = a.summary()
    const changed = after.flatMap((d, i) => (d === before[i] ? [] : [i]))
    expect(changed).toEqual([bucketOf('ns.example/fn-7')])
    expect(a.entries(bucketOf('ns.example/fn-7'))).toContainEqual(['ns.example/fn-7', 2])
    expect(new RecordStore(1).summary().every((d) => d === '')).toBe(true)
  })

  it('a full store makes room with an expired record, else refuses new names but still updates held ones', () => {
    const store = new RecordStore(2)
    expect(store.put(record('a.example/x', 1, 10), 0)).toBeDefined()
    expect(store.put(record('a.example/y', 1), 0)).toBeDefined()
    expect(store.put(record('a.example/z', 1), 5)).toBeUndefined()
    expect(store.put(record('a.example/y', 2), 5)).toBeDefined()
    expect(store.put(record('a.example/z', 1), 20)).toMatchObject({
      name: 'a.example/z',
      seq: 1,
      expiresAt: 8.64e15,
    })
    expect([...store.names()].sort()).toEqual(['a.example/y', 'a.example/z'])
  })

  it('rate limits per peer with a token bucket that refills on the clock', () => {
    const clock = fakeClock(0)
    const limiter = rateLimiter({ perSecond: 2, burst: 4, clock })
    const taken = Array.from({ length: 6 }, () => limiter.take('p1'))
    expect(taken).toEqual([true, true, true, true, false, false])
    expect(limiter.take('p2')).toBe(true)
    clock.advance(500)
    expect(limiter.take('p1')).toBe(true)
    expect(limiter.take('p1')).toBe(false)
  })
})

describe('peer node intake: what a record from a peer becomes', () => {
  const setup = async (maxRecords = 100) => {
    const signer = await generateSigner()
    const components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
    const store = new RecordStore(maxRecords)
    const changes = watchQueue()
    const intake = new Intake({
      store,
      verifier: components.verifier,
      seqLedger: components.seqLedger,
      clock: components.clock,
      maxRecordBytes: 64 * 1024,
      changes,
    })
    return { signer, components, store, intake }
  }

  it('accepts a new valid record, then calls the very same one a duplicate and another at that seq stale', async () => {
    const { signer, components, store, intake } = await setup()
    const one = await signed(signer, 'acme.com/image/a', 2)
    expect(await intake.admit(one.bytes, 'peer:x', 'gossip')).toMatchObject({ status: 'accepted' })
    expect(store.get('acme.com/image/a')?.seq).toBe(2)
    expect(components.seqLedger.highest('acme.com/image/a')).toBe(2)
    expect(await intake.admit(one.bytes, 'peer:x', 'gossip')).toMatchObject({ status: 'duplicate' })
    const other = await signed(signer, 'acme.com/image/a', 2, { description: 'other' })
    expect(await intake.admit(other.bytes, 'peer:x', 'gossip')).toMatchObject({ status: 'stale' })
    await components.close()
  })

  it('refuses a rollback, a forgery, a non-owner and an oversize record; ignores an unowned namespace and an expired record', async () => {
    const { signer, components, intake } = await setup()
    await intake.admit((await signed(signer, 'acme.com/image/a', 5)).bytes, 'peer:x', 'gossip')
    expect(
      await intake.admit((await signed(signer, 'acme.com/image/a', 4)).bytes, 'peer:x', 'gossip'),
    ).toMatchObject({
      status: 'refused',
      reason: 'E_SEQ_ROLLBACK',
    })
    const good = await signed(signer, 'acme.com/image/b', 1)
    const forged = mutate(good.bytes, (raw) => (raw.description = 'forged'))
    expect(await intake.admit(forged, 'peer:x', 'gossip')).toMatchObject({
      status: 'refused',
      reason: 'E_SIGNATURE_INVALID',
    })
    const stranger = await generateSigner()
    expect(
      await intake.admit((await signed(stranger, 'acme.com/image/c', 1)).bytes, 'peer:x', 'gossip'),
    ).toMatchObject({
      status: 'refused',
      reason: 'E_SIGNER_NOT_OWNER',
    })
    expect(await intake.admit(new Uint8Array(70_000), 'peer:x', 'gossip')).toMatchObject({
      status: 'refused',
      reason: 'E_RECORD_TOO_LARGE',
    })
    expect(
      await intake.admit((await signed(signer, 'beta.org/x', 1)).bytes, 'peer:x', 'gossip'),
    ).toMatchObject({
      status: 'ignored',
      reason: 'E_NAMESPACE_UNOWNED',
    })
    const expired = await signRecord(
      {
        ...sampleDraft('acme.com/image/old'),
        namespace: 'acme.com',
        seq: 1,
        issuedAt: '2020-01-01T00:00:00Z',
        ttlSeconds: 300,
        expiresAt: '2020-02-01T00:00:00Z',
        signatures: [],
      },
      signer,
    )
    expect(await intake.admit(expired.bytes, 'peer:x', 'gossip')).toMatchObject({
      status: 'ignored',
      reason: 'E_RECORD_EXPIRED',
    })
    await components.close()
  })

  it('a batch is verified together and reported to watchers as one change; a full store ignores new names', async () => {
    const { signer, components, intake } = await setup(2)
    const batch = await Promise.all([1, 2, 3].map((i) => signed(signer, `acme.com/batch/fn-${i}`, 1)))
    const outcomes = await intake.admitMany(
      batch.map((r) => r.bytes),
      'peer:x',
      'sync',
    )
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'ignored'])
    expect(outcomes[2]).toMatchObject({ reason: 'store-full' })
    await components.close()
  })
})
