import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { MAX_RECORD_BYTES, recordForms, recordId } from '../../src/record/codec.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { checkIntegrity, type Integrity } from '../../src/trust/_integrity.js'
import { IntegrityPool } from '../../src/trust/_integrityPool.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier, type VerifiedRecord } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner, publicKeyObject } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { envelope, mutate, NOW, sampleDraft } from '../_helpers/records.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const CRASHING_WORKER = new URL('../_helpers/crashingWorker.ts', import.meta.url)

/** What a caller can observe of a verification: the value, or the error's class, code, message and details. */
function outcome(settled: PromiseSettledResult<VerifiedRecord>): unknown {
  if (settled.status === 'fulfilled') {
    const { record, id, bytes, keyId, trustSource } = settled.value
    return { record, id, bytes: dec.decode(bytes), keyId, trustSource }
  }
  const err = settled.reason as MeshError
  expect(err).toBeInstanceOf(MeshError)
  return { class: err.constructor.name, json: err.toJSON() }
}

async function inThread(verifier: RecordVerifier, bytes: Uint8Array, origin?: string): Promise<unknown> {
  const [settled] = await Promise.allSettled([verifier.verify(bytes, origin === undefined ? {} : { origin })])
  return outcome(settled!)
}

/** The worker path: workerMinBatch 1, so even one record goes to a worker (posted at once, never stolen). */
async function inWorker(verifier: RecordVerifier, bytes: Uint8Array, origin?: string): Promise<unknown> {
  const [settled] = await verifier.verifyMany([{ bytes, options: origin === undefined ? {} : { origin } }])
  return outcome(settled!)
}

function keyObject(keyId: string) {
  return publicKeyObject(keyId)
}

function integrityOf(result: Integrity) {
  if ('error' in result) return { code: result.error.code, message: result.error.message }
  return { id: result.id, canonical: dec.decode(result.canonical), good: [...result.good].sort() }
}

describe('the integrity worker pool', () => {
  let owner: LocalSigner
  let stranger: LocalSigner
  let good: EncodedRecord
  let pool: IntegrityPool

  beforeAll(async () => {
    owner = await generateSigner()
    stranger = await generateSigner()
    good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    pool = new IntegrityPool({ size: 1, maxBytes: MAX_RECORD_BYTES, keyObject, steal: false })
  })
  afterAll(() => pool.close())

  it('gives the same canonical bytes, payload signatures and id as the main-thread codec (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 }),
        fc.boolean(),
        async (extensions, pretty) => {
          const signed = await signRecord({ ...sampleDraft(), ...envelope(), extensions }, owner)
          const raw = JSON.parse(dec.decode(signed.bytes)) as Record<string, unknown>
          const bytes = enc.encode(JSON.stringify(raw, null, pretty ? 2 : undefined))
          const [fromWorker] = pool.check([{ bytes }])
          const worker = integrityOf(await fromWorker!)
          const { canonical } = recordForms(raw)
          expect(worker).toEqual({
            id: recordId(canonical),
            canonical: dec.decode(canonical),
            good: [owner.id],
          })
          expect(worker).toMatchObject({ id: signed.id })
        },
      ),
      { numRuns: 150 },
    )
  })

  it('agrees with the in-thread check on arbitrary bytes and JSON, refusals included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue().map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
          fc
            .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }))
            .map((v) => enc.encode(JSON.stringify(v))),
        ),
        async (bytes) => {
          const [fromWorker] = pool.check([{ bytes, origin: 'peer' }])
          const fromThread = await checkIntegrity(bytes, MAX_RECORD_BYTES, { origin: 'peer', keyObject })
          expect(integrityOf(await fromWorker!)).toEqual(integrityOf(fromThread))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('runs the integrity worker module itself: batches are answered, no worker is lost', async () => {
    const [worker] = pool.workers
    expect(worker).toBeDefined()
    const results = await Promise.all(pool.check(Array.from({ length: 40 }, () => ({ bytes: good.bytes }))))
    for (const r of results)
      expect(integrityOf(r)).toEqual({ id: good.id, canonical: dec.decode(good.bytes), good: [owner.id] })
    expect(pool.workers).toEqual([worker])
  })

  it('reports which signatures verified: a co-signature that is garbage is left out', async () => {
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: unknown[] }
    raw.signatures.push({ keyId: stranger.id, alg: 'ed25519', sig: 'A'.repeat(86) })
    raw.signatures.push({ keyId: 'did:key:nope', alg: 'ed25519', sig: 'A'.repeat(86) })
    const [result] = pool.check([{ bytes: enc.encode(JSON.stringify(raw)) }])
    expect(integrityOf(await result!)).toMatchObject({ good: [owner.id] })
  })

  it('finishes the records of a worker that ends mid-batch on this thread, and replaces the worker', async () => {
    const crashing = new IntegrityPool({ size: 1, maxBytes: MAX_RECORD_BYTES, keyObject, steal: false })
    const items = Array.from({ length: 100 }, () => ({ bytes: good.bytes }))
    const results = crashing.check(items)
    const [first] = crashing.workers
    await first!.terminate()
    for (const r of await Promise.all(results)) expect(integrityOf(r)).toMatchObject({ id: good.id })
    expect(crashing.workers).toHaveLength(1)
    expect(crashing.workers[0]).not.toBe(first)
    const [after] = crashing.check([{ bytes: good.bytes }])
    expect(integrityOf(await after!)).toMatchObject({ id: good.id, good: [owner.id] })
    await crashing.close()
  })

  it('error: refuses forged signatures on every path: worker, records taken by this thread, crashed workers', async () => {
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: { keyId: string; sig: string }[] }
    const byStranger = await signRecord({ ...sampleDraft(), ...envelope() }, stranger)
    const strangerSig = (JSON.parse(dec.decode(byStranger.bytes)) as typeof raw).signatures[0]!.sig
    const forgeries = [
      // A stranger's valid signature, relabelled as the owner's.
      enc.encode(JSON.stringify({ ...raw, signatures: [{ ...raw.signatures[0]!, sig: strangerSig }] })),
      // The owner's signature over another record (a field changed after signing).
      mutate(good.bytes, (r) => (r.seq = 2)),
      // Garbage of the right length.
      enc.encode(JSON.stringify({ ...raw, signatures: [{ ...raw.signatures[0]!, sig: 'A'.repeat(86) }] })),
    ]
    const inThread = new IntegrityPool({ size: 0, maxBytes: MAX_RECORD_BYTES, keyObject })
    const stealing = new IntegrityPool({ size: 1, maxBytes: MAX_RECORD_BYTES, keyObject })
    const crashed = new IntegrityPool({
      size: 1,
      maxBytes: MAX_RECORD_BYTES,
      keyObject,
      steal: false,
      worker: CRASHING_WORKER,
    })
    const items = [...forgeries, good.bytes].map((bytes) => ({ bytes }))
    const many = Array.from({ length: 8 }, () => items).flat()
    for (const [path, results] of [
      ['worker', await Promise.all(pool.check(items))],
      ['this thread', await Promise.all(inThread.check(items))],
      ['worker and this thread', await Promise.all(stealing.check(many))],
      ['after a crash', await Promise.all(crashed.check(items))],
      [
        'checkIntegrity',
        await Promise.all(items.map((i) => checkIntegrity(i.bytes, MAX_RECORD_BYTES, { keyObject }))),
      ],
    ] as const) {
      results.forEach((r, i) => {
        const expected = i % items.length === items.length - 1 ? [owner.id] : []
        expect({ path, i, good: integrityOf(r) }).toMatchObject({ path, i, good: { good: expected } })
      })
    }
    await Promise.all([inThread.close(), stealing.close(), crashed.close()])
  })

  it('never loses or hangs a record when every worker crashes: they are checked on this thread', async () => {
    const broken = new IntegrityPool({
      size: 2,
      maxBytes: MAX_RECORD_BYTES,
      keyObject,
      steal: false,
      worker: CRASHING_WORKER,
    })
    const items = Array.from({ length: 300 }, (_, i) => ({
      bytes: i % 3 === 0 ? enc.encode('{') : good.bytes,
    }))
    const results = (await Promise.all(broken.check(items))).map(integrityOf)
    results.forEach((r, i) => {
      if (i % 3 === 0) expect(r).toMatchObject({ code: 'E_RECORD_MALFORMED' })
      else expect(r).toMatchObject({ id: good.id })
    })
    const [later] = broken.check([{ bytes: good.bytes }])
    expect(integrityOf(await later!)).toMatchObject({ id: good.id })
    await broken.close()
  })
})

describe('verifyMany with verification workers', () => {
  let owner: LocalSigner
  let stranger: LocalSigner
  let good: EncodedRecord
  let plain: RecordVerifier
  let pooled: RecordVerifier

  beforeAll(async () => {
    owner = await generateSigner()
    stranger = await generateSigner()
    good = await signRecord({ ...sampleDraft(), ...envelope() }, owner)
    const init = { trust: [pinnedTrust({ 'acme.com': [owner.id] })], clock: fakeClock(NOW), seenCacheSize: 0 }
    plain = new RecordVerifier({ ...init, workers: 0 })
    pooled = new RecordVerifier({ ...init, workers: 1, workerMinBatch: 1 })
  })
  afterAll(() => pooled.close())

  it('settles every refusal with the same class, code, message and details as the in-thread path', async () => {
    const cases: [string, Uint8Array][] = [
      ['valid', good.bytes],
      ['too large', new Uint8Array(MAX_RECORD_BYTES + 1).fill(0x7b)],
      ['not JSON', enc.encode('{"name": ')],
      ['not UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
      ['an array', enc.encode('[]')],
      ['deeply nested', enc.encode(`{"extensions":{"x":${'['.repeat(20000)}${']'.repeat(20000)}}}`)],
      [
        'too many versions',
        enc.encode(
          JSON.stringify({
            versions: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`1.0.${i}`, {}])),
          }),
        ),
      ],
      ['seq of the wrong type', mutate(good.bytes, (r) => (r.seq = '7'))],
      ['an unknown field', mutate(good.bytes, (r) => (r.owner = 'me'))],
      ['a changed field', mutate(good.bytes, (r) => (r.seq = 2))],
      ['no signatures', mutate(good.bytes, (r) => (r.signatures = []))],
      [
        'a garbage signature',
        mutate(
          good.bytes,
          (r) => (r.signatures = [{ keyId: owner.id, alg: 'ed25519', sig: 'A'.repeat(86) }]),
        ),
      ],
      [
        'a signature by a stranger',
        mutate(good.bytes, (r) => ((r.signatures as { keyId: string }[])[0]!.keyId = stranger.id)),
      ],
      ['another namespace', mutate(good.bytes, (r) => (r.name = 'evil.com/image/sharpen'))],
      [
        'a lone surrogate in an extension',
        enc.encode(dec.decode(good.bytes).replace('{', '{"extensions":{"x":"\\ud800"},')),
      ],
    ]
    for (const [what, bytes] of cases) {
      expect({ what, outcome: await inWorker(pooled, bytes, 'git') }).toEqual({
        what,
        outcome: await inThread(plain, bytes, 'git'),
      })
    }
  })

  it('refuses with the same error when any owner signature fails and the record is co-signed', async () => {
    const both = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id, stranger.id] })],
      clock: fakeClock(NOW),
      workers: 1,
      workerMinBatch: 1,
    })
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: unknown[] }
    raw.signatures.push({ keyId: stranger.id, alg: 'ed25519', sig: 'A'.repeat(86) })
    const bytes = enc.encode(JSON.stringify(raw))
    const plainBoth = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id, stranger.id] })],
      clock: fakeClock(NOW),
      workers: 0,
    })
    const expected = await inThread(plainBoth, bytes)
    expect(expected).toMatchObject({ json: { code: 'E_SIGNATURE_INVALID' } })
    expect(await inWorker(both, bytes)).toEqual(expected)
    await both.close()
  })

  it('verifies a large batch with workers and the main thread sharing it, in input order', async () => {
    const records = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        signRecord({ ...sampleDraft(`acme.com/bulk/fn-${i}`), ...envelope() }, owner),
      ),
    )
    const items = records.map((r, i) => ({ bytes: i % 10 === 3 ? enc.encode('nope') : r.bytes }))
    const results = await new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
      workers: 2,
      workerMinBatch: 32,
    }).verifyMany(items)
    results.forEach((r, i) => {
      if (i % 10 === 3)
        expect(r).toMatchObject({ status: 'rejected', reason: { code: 'E_RECORD_MALFORMED' } })
      else expect(r).toMatchObject({ status: 'fulfilled', value: { id: records[i]!.id, keyId: owner.id } })
    })
  })

  it('keeps the seen cache: a second batch is served from it and still re-checks ownership', async () => {
    const owners: Record<string, string[]> = { 'acme.com': [owner.id] }
    const verifier = new RecordVerifier({
      trust: [{ id: 'mutable', publishersOf: (ns) => owners[ns] }],
      clock: fakeClock(NOW),
      workers: 1,
      workerMinBatch: 1,
    })
    const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: unknown[] }
    raw.signatures.push({ keyId: stranger.id, alg: 'ed25519', sig: 'A'.repeat(86) })
    const bytes = enc.encode(JSON.stringify(raw))
    const [first] = await verifier.verifyMany([{ bytes }])
    expect(first).toMatchObject({ status: 'fulfilled', value: { keyId: owner.id } })
    const id = (first as PromiseFulfilledResult<VerifiedRecord>).value.id
    const [again] = await verifier.verifyMany([{ bytes }])
    expect(again).toMatchObject({ status: 'fulfilled', value: { keyId: owner.id, id } })
    owners['acme.com'] = [owner.id, stranger.id]
    const [rotated] = await verifier.verifyMany([{ bytes }])
    expect(rotated).toMatchObject({ status: 'rejected', reason: { code: 'E_SIGNATURE_INVALID' } })
    owners['acme.com'] = []
    const [gone] = await verifier.verifyMany([{ bytes }])
    expect(gone).toMatchObject({ status: 'rejected', reason: { code: 'E_SIGNER_NOT_OWNER' } })
    await verifier.close()
  })

  it('honours an abort signal: every record of an aborted batch settles as E_ABORTED', async () => {
    const records = Array.from({ length: 64 }, () => ({ bytes: good.bytes }))
    const controller = new AbortController()
    const pending = pooled.verifyMany(records.map((r) => ({ ...r, options: { signal: controller.signal } })))
    controller.abort()
    const results = await pending
    for (const r of results)
      expect(r).toMatchObject({
        status: 'rejected',
        reason: { code: 'E_ABORTED', message: expect.stringMatching(/^record verification was aborted/) },
      })
    const before = await pooled.verifyMany(
      records.map((r) => ({ ...r, options: { signal: controller.signal } })),
    )
    for (const r of before) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'E_ABORTED' } })
  })

  it('close() ends the workers; a later batch starts them again', async () => {
    const verifier = new RecordVerifier({
      trust: [pinnedTrust({ 'acme.com': [owner.id] })],
      clock: fakeClock(NOW),
      workers: 1,
      workerMinBatch: 1,
    })
    expect((await verifier.verifyMany([{ bytes: good.bytes }]))[0]).toMatchObject({ status: 'fulfilled' })
    await verifier.close()
    await verifier.close()
    expect((await verifier.verifyMany([{ bytes: good.bytes }]))[0]).toMatchObject({ status: 'fulfilled' })
    await verifier.close()
  })

  it('prepareMany: workers start at once, finish settles exactly as verifyMany; once only', async () => {
    const items = [
      { bytes: good.bytes },
      { bytes: enc.encode('{"name": ') },
      { bytes: mutate(good.bytes, (r) => (r.seq = 2)) },
      { bytes: mutate(good.bytes, (r) => (r.signatures = [])) },
      { bytes: good.bytes, options: { origin: 'git', expectName: 'acme.com/other' } },
    ]
    const expected = (await plain.verifyMany(items)).map(outcome)
    const batch = pooled.prepareMany(items)
    expect((await batch.finish()).map(outcome)).toEqual(expected)
    await expect(batch.finish()).rejects.toThrow(/finished or discarded/)
    batch.discard()
    const dropped = pooled.prepareMany(items)
    dropped.discard()
    await expect(dropped.finish()).rejects.toThrow(/finished or discarded/)
    expect((await pooled.verifyMany(items)).map(outcome)).toEqual(expected)
    // No workers: everything happens in finish.
    expect((await plain.prepareMany(items).finish()).map(outcome)).toEqual(expected)
  })

  it('a held pool leaves queued records to the workers, and this thread takes them again on release', async () => {
    // No live worker: while held, nothing settles; released, this thread checks them all.
    const idle = new IntegrityPool({ size: 0, maxBytes: MAX_RECORD_BYTES, keyObject })
    idle.hold()
    let settled = 0
    const checks = idle.check(Array.from({ length: 20 }, () => ({ bytes: good.bytes })))
    for (const c of checks) void c.then(() => settled++)
    for (let i = 0; i < 5; i++) await new Promise(setImmediate)
    expect(settled).toBe(0)
    idle.release()
    const results = await Promise.all(checks)
    const expected = integrityOf(await checkIntegrity(good.bytes, MAX_RECORD_BYTES, { keyObject }))
    expect(results.map(integrityOf)).toEqual(Array.from({ length: 20 }, () => expected))
    await idle.close()
  })
})
