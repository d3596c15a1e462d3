import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import type { RecordDraft } from '../../src/record/schema.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { DEFAULT_VERIFY_WORKERS, RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner } from '../../src/trust/signer.js'
import { sampleDraft } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { quick, target, time } from './_harness.js'

/** The scale point the target is set at. */
const FULL = 100_000
/**
 * Records in the registry: 100,000, or 10,000 in `--quick` mode (signing and loading 100,000 took a
 * third of a quick run), where the target scales with the count: the same records/s.
 */
const RECORDS = Number(process.env.FMESH_BENCH_SCALE_RECORDS ?? (quick ? 10_000 : FULL))
/** The goal: 100,000 records loaded and verified in 15 s, scaled to {@link RECORDS}. */
const GOAL_MS = (15_000 * RECORDS) / FULL

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000
}

/** A one-version record (~1 KiB): the sample record's first version. */
function draft(name: string): RecordDraft {
  const sample = sampleDraft(name)
  const one = sample.versions['1.2.0']!
  return { ...sample, latestVersion: '1.2.0', versions: { '1.2.0': one } }
}

/**
 * Scale: a 100,000-record Git registry (10,000 in `--quick` mode) loaded from its repository and
 * every record verified (target <= 15 s for 100,000), beside verifying the same record bytes from memory with the same verifier
 * settings in the same run (the registry's overhead over verification itself).
 */
export default async function gitScaleBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-git-scale-'))
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const now = Date.now()
    const envelope = (namespace: string) => ({
      namespace,
      seq: 1,
      issuedAt: new Date(now - 60_000).toISOString(),
      ttlSeconds: 3600,
      expiresAt: new Date(now + 86_400_000).toISOString(),
      signatures: [],
    })
    const signStart = performance.now()
    const records: EncodedRecord[] = []
    for (let i = 0; i < RECORDS; i++) {
      const ns = `ns${i % 10}.example`
      records.push(
        await signRecord(
          { ...draft(`${ns}/group-${Math.floor(i / 100) % 1000}/fn-${i}`), ...envelope(ns) },
          key,
        ),
      )
    }
    const bytes = records.reduce((n, r) => n + r.bytes.byteLength, 0)
    console.log(
      `  (signed ${RECORDS} records, ${(bytes / RECORDS).toFixed(0)} bytes each, in ${(performance.now() - signStart).toFixed(0)} ms)`,
    )
    const dir = join(root, 'records.git')
    await commitFiles(
      dir,
      records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
    )

    // Baseline: the same bytes verified from memory, in batches as a sync checks them.
    const verifier = new RecordVerifier({ trust: [pinnedTrust(owners)], seenCacheSize: 0 })
    const items = records.map((r) => ({ bytes: r.bytes, options: { allowExpired: true } }))
    // CPU time of every thread beside the wall time: under other load it says more than the clock.
    let cpu = process.cpuUsage()
    const memoryMs = await time(async () => {
      for (let i = 0; i < items.length; i += 256) await verifier.verifyMany(items.slice(i, i + 256))
    })
    const memoryCpu = cpuMs(process.cpuUsage(cpu))
    await verifier.close()

    const registry = gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents({ trust: { owners } }))
    let readyMs = 0
    cpu = process.cpuUsage()
    const loadMs = await time(async () => {
      readyMs = await time(() => registry.start())
      await registry.verified()
    })
    const loadCpu = cpuMs(process.cpuUsage(cpu))
    const status = registry.status()
    if (status.verified !== RECORDS || status.pending !== 0)
      throw new Error(`verified ${status.verified} of ${RECORDS} records (${status.pending} pending)`)
    await registry.stop()
    console.log(`  verifyMany of the same ${RECORDS} records from memory: ${memoryMs.toFixed(0)} ms`)
    console.log(`  gitRegistry ready (index of ${RECORDS} records): ${readyMs.toFixed(0)} ms`)
    console.log(
      `  gitRegistry loaded and every record verified (${DEFAULT_VERIFY_WORKERS} workers): ${loadMs.toFixed(0)} ms (${((1000 * RECORDS) / loadMs).toFixed(0)} records/s)`,
    )
    console.log(
      `  ratio load and verify / verification from memory  ${(loadMs / memoryMs).toFixed(2)}x (${loadMs.toFixed(0)} ms vs ${memoryMs.toFixed(0)} ms)`,
    )
    console.log(
      `  ratio load and verify / verification from memory, CPU  ${(loadCpu / memoryCpu).toFixed(2)}x (${loadCpu.toFixed(0)} ms vs ${memoryCpu.toFixed(0)} ms of CPU, all threads)`,
    )
    target(
      `${RECORDS}-record registry loaded and verified (ms, lower is better)`,
      loadMs,
      GOAL_MS,
      'ms',
      false,
    )
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
