import { verify as cryptoVerify } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { createMesh } from '../../src/mesh.js'
import { signingPayload } from '../../src/record/codec.js'
import { signRecord } from '../../src/record/signRecord.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { DEFAULT_VERIFY_WORKERS, RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, publicKeyObject } from '../../src/trust/signer.js'
import { sampleDraft } from '../_helpers/records.js'
import { type Measurement, measure, ratio, report, target } from './_harness.js'

function perRecord(m: Measurement, name: string, records: number): Measurement {
  return { ...m, name, opsPerSec: m.opsPerSec * records, medianUs: m.medianUs / records }
}

const NAMES = 1_000

/**
 * Median CPU time (this process) per op of `a` and of `b`, over rounds of `n` ops that alternate
 * between them, so both see the same load.
 */
async function interleavedCpuUs(
  a: (i: number) => unknown,
  b: (i: number) => unknown,
  n: number,
  rounds = 15,
): Promise<{ a: number; b: number }> {
  const run = async (op: (i: number) => unknown) => {
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) await op(i)
    const used = process.cpuUsage(start)
    return (used.user + used.system) / n
  }
  const as: number[] = []
  const bs: number[] = []
  for (let r = 0; r < rounds; r++) {
    as.push(await run(a))
    bs.push(await run(b))
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  return { a: median(as), b: median(bs) }
}

export default async function bench(): Promise<void> {
  const signer = await generateSigner()
  const registry = memoryRegistry()
  const now = Date.now()
  const envelope = (seq: number) => ({
    namespace: 'acme.com',
    seq,
    issuedAt: new Date(now - 60_000).toISOString(),
    ttlSeconds: 3600,
    expiresAt: new Date(now + 86_400_000).toISOString(),
    signatures: [],
  })
  const names = Array.from({ length: NAMES }, (_, i) => `acme.com/bench/fn-${i}`)
  const encoded = await Promise.all(
    names.map((n) => signRecord({ ...sampleDraft(n), ...envelope(1) }, signer)),
  )
  for (const e of encoded) await registry.publish(e)
  const trust = { owners: { 'acme.com': [signer.id] } }

  // Warm resolve: every name already cached; a rotating set of 1,000 names and three selectors.
  const mesh = await createMesh({ registries: [registry], trust })
  const queries = names.flatMap((n) => [`${n}@^1.2`, n, `${n}@1.2.0`])
  for (const q of queries) await mesh.resolve(q)
  const keys = names.map((n) => n)
  const map = new Map(keys.map((k) => [k, { k }]))
  const lru = new LRUCache<string, object>({ max: 10_000, ttl: 3_600_000 })
  for (const k of keys) lru.set(k, { k })

  const mapGet = await measure('baseline Map.get', (i) => map.get(keys[i % NAMES]!), { batch: 10_000 })
  const lruGet = await measure('baseline lru-cache get (ttl on)', (i) => lru.get(keys[i % NAMES]!), {
    batch: 10_000,
  })
  const warm = await measure(
    'warm mesh.resolve (cached, 3 selectors)',
    (i) => mesh.resolve(queries[i % queries.length]!),
    {
      batch: 10_000,
    },
  )
  report(mapGet)
  report(lruGet)
  report(warm)
  ratio('warm resolve / Map.get', warm, mapGet)
  ratio('warm resolve / lru-cache get', warm, lruGet)
  target('warm resolve', warm.opsPerSec, 1_000_000, 'ops/s')

  // Verification: bytes to a verified record (size, JSON, schema, trust, ed25519).
  // seenCacheSize 0: every call parses, canonicalizes and checks the signature (first sight of a record).
  // workers 0: the in-thread path (signatures on libuv's pool); `pooled` sends batches to worker threads.
  const verifier = new RecordVerifier({ trust: [pinnedTrust(trust.owners)], seenCacheSize: 0, workers: 0 })
  const pooled = new RecordVerifier({ trust: [pinnedTrust(trust.owners)], seenCacheSize: 0 })
  const remembering = new RecordVerifier({ trust: [pinnedTrust(trust.owners)] })
  const verify = await measure(
    'record verification (64 KiB limit, ed25519)',
    (i) => verifier.verify(encoded[i % NAMES]!.bytes),
    {
      batch: 200,
    },
  )
  // Baseline: the raw ed25519 check of the same records (their payloads prepared beforehand).
  const key = publicKeyObject(signer.id)!
  const raw = encoded.map((e) => ({
    payload: signingPayload(e.record as unknown as Record<string, unknown>),
    sig: Buffer.from(e.record.signatures[0]!.sig, 'base64url'),
  }))
  const ed25519 = await measure(
    'baseline raw ed25519 verify of the same records',
    (i) => cryptoVerify(null, raw[i % NAMES]!.payload, key, raw[i % NAMES]!.sig),
    { batch: 200 },
  )
  // Measured again after, so load that changes during the run weighs on both sides alike.
  const verifyAgain = await measure(
    'record verification, measured again',
    (i) => verifier.verify(encoded[i % NAMES]!.bytes),
    { batch: 200 },
  )
  const parseOnly = await measure(
    'baseline JSON.parse of the same bytes',
    (i) => JSON.parse(new TextDecoder().decode(encoded[i % NAMES]!.bytes)),
    {
      batch: 200,
    },
  )
  const batches = Array.from({ length: NAMES / 100 }, (_, b) =>
    encoded.slice(b * 100, b * 100 + 100).map((e) => ({ bytes: e.bytes })),
  )
  const verifyMany = await measure(
    'verifyMany, 100 records a call (as a sync does)',
    (i) => verifier.verifyMany(batches[i % batches.length]!),
    {
      batch: 5,
    },
  )
  const concurrent = perRecord(verifyMany, 'record verification in verifyMany batches (in-thread)', 100)
  const pooledMany = await measure(
    'verifyMany with the worker pool, 100 records a call',
    (i) => pooled.verifyMany(batches[i % batches.length]!),
    { batch: 5 },
  )
  const pool = perRecord(
    pooledMany,
    `record verification, verifyMany with the worker pool (${DEFAULT_VERIFY_WORKERS} workers)`,
    100,
  )
  const again = await measure(
    're-verification of bytes seen before (seen cache)',
    (i) => remembering.verify(encoded[i % NAMES]!.bytes),
    {
      batch: 1000,
    },
  )
  report(verify)
  report(concurrent)
  report(pool)
  report(again)
  report(parseOnly)
  report(ed25519)
  report(verifyAgain)
  ratio('verification / JSON.parse', verify, parseOnly)
  // Time per record, verification (the mean of its two runs, before and after) over raw ed25519.
  const both = (verify.medianUs + verifyAgain.medianUs) / 2
  console.log(
    `  ratio record verification / raw ed25519 (time)       ${(both / ed25519.medianUs).toFixed(3)}x  (${both.toFixed(1)} vs ${ed25519.medianUs.toFixed(1)} us)`,
  )
  // The same ratio in CPU time, the two measured in alternating rounds (robust to a loaded machine).
  const cpu = await interleavedCpuUs(
    (i) => verifier.verify(encoded[i % NAMES]!.bytes),
    (i) => cryptoVerify(null, raw[i % NAMES]!.payload, key, raw[i % NAMES]!.sig),
    200,
  )
  console.log(
    `  ratio record verification / raw ed25519 (CPU time)   ${(cpu.a / cpu.b).toFixed(3)}x  (${cpu.a.toFixed(1)} vs ${cpu.b.toFixed(1)} us of CPU)`,
  )
  target('record verification time, % of raw ed25519', (100 * both) / ed25519.medianUs, 150, '%', false)
  target('record verification CPU time, % of raw ed25519', (100 * cpu.a) / cpu.b, 150, '%', false)
  ratio('in-thread verifyMany / one at a time', concurrent, verify)
  ratio('worker-pool verifyMany / one at a time', pool, verify)
  ratio('worker-pool verifyMany / in-thread verifyMany', pool, concurrent)
  ratio('re-verification / first verification', again, verify)
  target('verification, one at a time', verify.opsPerSec, 5_000, 'records/s')
  target('verification in verifyMany batches', concurrent.opsPerSec, 5_000, 'records/s')
  target('verification with the worker pool', pool.opsPerSec, 5_000, 'records/s')

  // Crossover: small batches through the pool (workerMinBatch 1) against the in-thread path.
  const eager = new RecordVerifier({
    trust: [pinnedTrust(trust.owners)],
    seenCacheSize: 0,
    workerMinBatch: 1,
  })
  for (const size of [4, 8, 16, 32, 64]) {
    const small = Array.from({ length: NAMES / size }, (_, b) =>
      encoded.slice(b * size, b * size + size).map((e) => ({ bytes: e.bytes })),
    )
    const inThread = await measure(
      `verifyMany ${size} records in-thread`,
      (i) => verifier.verifyMany(small[i % small.length]!),
      { batch: 10, minMs: 500 },
    )
    const inPool = await measure(
      `verifyMany ${size} records, worker pool`,
      (i) => eager.verifyMany(small[i % small.length]!),
      { batch: 10, minMs: 500 },
    )
    ratio(`pool / in-thread, batches of ${size}`, inPool, inThread)
  }
  await eager.close()
  await pooled.close()

  // Cold resolve: a fresh mesh per batch, so every resolve goes to the memory registry and verifies.
  let cold = await createMesh({ registries: [registry], trust })
  let coldIndex = 0
  const coldResolve = await measure(
    'cold mesh.resolve via memoryRegistry',
    async () => {
      if (coldIndex === NAMES) {
        cold = await createMesh({ registries: [registry], trust })
        coldIndex = 0
      }
      return cold.resolve(names[coldIndex++]!)
    },
    { batch: 100 },
  )
  report(coldResolve)
  ratio('cold resolve / verification alone', coldResolve, verify)
  ratio('warm resolve / cold resolve', warm, coldResolve)
  await mesh.close()
}
