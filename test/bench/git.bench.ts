// Figures on the project's 2-core machine (Node 20), runs with no other work running, 22 Nov 2026:
//   initial sync of 10,000 records, verified (1 worker)   2,253-2,348 ms   (before this session's
//     changes, same hour: 2,803-2,853 ms; in-thread, workers 0: 2,490-2,777 ms, before 2,873-2,927)
//   system git clone (with checkout)                      269-1,140 ms: its checkout creates 10,000
//     files, which took 0.3-2.8 s on this disk within the same hour; git clone --bare 102-107 ms
//   initial sync / git clone                              8.4x against the fastest clone (269 ms);
//     the printed ratio falls to 2-3x when the clone's checkout is slow: the disk, not the registry.
//     Target (<= 3x) not met.
//   incremental sync of 100 changed records               95-122 ms (2 of 9 runs: 234, 277 ms), git
//     fetch 58-63 ms (1.6-2.1x); its time is mostly the test server spawning git http-backend
//   cold lookup from the index                            4.1-4.5 us median (target <= 1 ms: met),
//     readFile of the checkout 59-66 us
// With the verification and pack-index workers as real modules (no source text), 2 cores, other work
// running, same hour, before -> after: initial sync 2,331-2,510 -> 2,538-2,696 ms from this bench
// (tsx starts each worker module through its loader, ~0.1 s more per worker than the eval'd source);
// from a tsc build 2,104-2,508 -> 2,104-2,412 ms; in-thread (workers 0) 2,845-3,228 ms; incremental
// sync 89-107 -> 96-117 ms (git fetch 66-94 ms in the same runs).
// Where an initial sync's time goes (profile, 10,000 records, 3.9-4.3 s of CPU over the 2 cores, so
// at least ~2 s of wall time): isomorphic-git's fetch and its pack indexing ~0.73 s on the main
// thread (listpack ~0.49 s, the idx's fanout ~0.09 s); ed25519 verification ~1.1 s (~90-120 us a
// record); the native pack index and record files ~0.4-0.5 s on their own worker (while the fetch
// indexes the same pack); schema checks (zod) ~0.23 s and JSON.parse ~0.15 s on the main thread;
// canonical forms ~0.2 s and parsing ~0.1 s on the verification worker; garbage collection ~0.5 s.
import '../../src/_polyfill.js'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { DEFAULT_VERIFY_WORKERS, RecordVerifier, type VerifyOptions } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'
import { type Measurement, measure, quick, ratio, report, target, time } from './_harness.js'

const RECORDS = 10_000
const CHANGED = 100
/** Timed `git clone` runs (and bare ones), interleaved with the registry's. */
const CLONE_ROUNDS = quick ? 3 : 5
/** Timed first syncs of the registry (each verifies all its records in the background after). */
const REGISTRY_ROUNDS = quick ? 2 : 3

/**
 * Writes every dirty page out before a timed run. git clone fsyncs the pack it writes, and on ext4
 * an fsync waits for the data of every file written before it in the same journal commit: a clone
 * right after seeding the server (or after a bench that wrote a lot) took several times as long
 * as the next one, which is what made this baseline swing between runs. The registry's runs get
 * the same settled disk.
 */
function settleDisk(): Promise<void> {
  return new Promise((resolve, reject) => execFile('sync', (err) => (err ? reject(err) : resolve())))
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function nameOf(i: number): string {
  return `ns${i % 10}.example/group-${Math.floor(i / 100) % 100}/fn-${i}`
}

async function signAll(key: LocalSigner, count: number, seq: number, offset = 0): Promise<EncodedRecord[]> {
  const out: EncodedRecord[] = []
  for (let i = offset; i < offset + count; i++) out.push(await signed(key, nameOf(i), seq))
  return out
}

function files(records: readonly EncodedRecord[]) {
  return records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes }))
}

/** The real verifier, noting each name it checked (the bench refuses an answer served unchecked). */
class CountingVerifier extends RecordVerifier {
  readonly checked = new Set<string>()
  override verify(bytes: Uint8Array, options: VerifyOptions = {}) {
    if (options.expectName !== undefined) this.checked.add(options.expectName)
    return super.verify(bytes, options)
  }
  override verifyMany(
    items: readonly { bytes: Uint8Array; options?: VerifyOptions }[],
    concurrency?: number,
  ) {
    for (const item of items) if (item.options?.expectName) this.checked.add(item.options.expectName)
    return super.verifyMany(items, concurrency)
  }
}

function once(name: string, ms: number): Measurement {
  return { name, opsPerSec: 1000 / ms, medianUs: ms * 1000, ops: 1 }
}

function line(label: string, ms: number, baseline: number, baselineLabel: string): void {
  console.log(
    `  ratio ${label.padEnd(46)} ${(ms / baseline).toFixed(2)}x ${baselineLabel} (${ms.toFixed(0)} ms vs ${baseline.toFixed(0)} ms)`,
  )
}

/**
 * Git registry: initial sync of a 10,000-record repository (with verification), incremental sync of
 * 100 changed records, and cold lookups from the index, each beside system git doing the same
 * transfer from the same loopback http-backend server in the same run.
 */
export default async function gitBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-git-bench-'))
  const server = await startGitHttpServer({ root: join(root, 'srv') })
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const signStart = performance.now()
    const records = await signAll(key, RECORDS, 1)
    console.log(`  (signed ${RECORDS} records in ${(performance.now() - signStart).toFixed(0)} ms)`)
    const bare = join(server.root, 'records.git')
    await commitFiles(bare, [
      { path: 'README.md', bytes: new TextEncoder().encode('# bench\n') },
      ...files(records),
    ])
    await systemGit(['repack', '-adq'], bare)
    const url = server.url('records.git')

    const names = records.map((r) => r.record.name)
    const firstName = names[names.length - 1]!
    // Ready once indexed, records verified in the background (the default): the time to the first
    // verified answer is start() plus one lookup, which verifies its record first if still pending.
    const firstAnswer = async (dir: string) => {
      const verifier = new CountingVerifier({ trust: [pinnedTrust(owners)] })
      const registry = gitRegistry({ dir: join(root, dir), url, syncIntervalMs: 0 })({
        ...registryComponents(),
        verifier,
      })
      const startedAt = performance.now()
      const first = await registry.lookup(firstName)
      const firstMs = performance.now() - startedAt
      const pendingThen = registry.status().pending
      if (first === undefined || !verifier.checked.has(firstName))
        throw new Error('the first answer was not verified before it was served')
      const done = await registry.verified()
      const verifiedMs = performance.now() - startedAt
      if (registry.status().verified !== RECORDS || done?.changed.length !== RECORDS)
        throw new Error(`verified ${registry.status().verified} names, expected ${RECORDS}`)
      return { registry, verifier, firstMs, pendingThen, verifiedMs, done }
    }

    // The baseline: a clone discarded first (the server's first pack, cold caches), then rounds of
    // clone, bare clone and registry first answer interleaved, each after the disk is settled; the
    // medians are compared.
    await systemGit(['clone', '--quiet', url, join(root, 'sys-warm')])
    const clones: number[] = []
    const bareClones: number[] = []
    const runs: Awaited<ReturnType<typeof firstAnswer>>[] = []
    for (let round = 0; round < CLONE_ROUNDS; round++) {
      await settleDisk()
      clones.push(await time(() => systemGit(['clone', '--quiet', url, join(root, `sys-clone-${round}`)])))
      await settleDisk()
      bareClones.push(
        await time(() => systemGit(['clone', '--quiet', '--bare', url, join(root, `sys-bare-${round}`)])),
      )
      if (round >= REGISTRY_ROUNDS) continue
      await settleDisk()
      const run = await firstAnswer(`registry-${round}`)
      if (round < REGISTRY_ROUNDS - 1) {
        await run.registry.stop()
        await run.verifier.close()
      }
      runs.push(run)
    }
    const cloneMs = median(clones)
    const bareCloneMs = median(bareClones)
    console.log(
      `  (git clone runs: ${clones.map((ms) => ms.toFixed(0)).join(', ')} ms; --bare: ${bareClones.map((ms) => ms.toFixed(0)).join(', ')} ms)`,
    )
    report(once(`system git clone (with checkout), median of ${CLONE_ROUNDS}`, cloneMs))
    report(once(`system git clone --bare, median of ${CLONE_ROUNDS}`, bareCloneMs))
    const { registry, verifier, pendingThen, done } = runs.at(-1)!
    const firstMs = median(runs.map((r) => r.firstMs))
    const verifiedMs = median(runs.map((r) => r.verifiedMs))
    console.log(
      `  (first verified answer runs: ${runs.map((r) => r.firstMs.toFixed(0)).join(', ')} ms; all verified: ${runs.map((r) => r.verifiedMs.toFixed(0)).join(', ')} ms)`,
    )
    // Same-run comparison: every record verified before the first answer (verifyInBackground false).
    const eager = gitRegistry({
      dir: join(root, 'registry-eager'),
      url,
      syncIntervalMs: 0,
      verifyInBackground: false,
    })(registryComponents({ trust: { owners } }))
    await settleDisk()
    const eagerMs = await time(() => eager.start())
    await eager.stop()
    report(once(`gitRegistry initial sync, all verified before ready (before)`, eagerMs))
    report(
      once(
        `gitRegistry time to first verified answer (${pendingThen} then pending), median of ${REGISTRY_ROUNDS}`,
        firstMs,
      ),
    )
    report(
      once(
        `gitRegistry background verification done (${RECORDS} records, ${DEFAULT_VERIFY_WORKERS} workers)`,
        verifiedMs,
      ),
    )
    console.log(
      `  background verification: ${done.records} records in ${done.durationMs.toFixed(0)} ms after indexing (${((1000 * done.records) / done.durationMs).toFixed(0)} records/s)`,
    )
    line('first verified answer / git clone', firstMs, cloneMs, 'git clone')
    line('first verified answer / git clone --bare', firstMs, bareCloneMs, 'git clone --bare')
    line('all verified (background) / git clone', verifiedMs, cloneMs, 'git clone')
    line('all verified before ready / git clone', eagerMs, cloneMs, 'git clone')
    target('first verified answer vs git clone (x, lower is better)', firstMs / cloneMs, 3, 'x', false)

    const changed = await signAll(key, CHANGED, 2, 0)
    await commitFiles(bare, files(changed), {
      message: `Change ${CHANGED} records`,
      timestamp: 1_700_000_100,
    })
    await settleDisk()
    const fetchMs = await time(() => systemGit(['fetch', '--quiet', 'origin'], join(root, 'sys-clone-0')))
    let changedNames = 0
    await settleDisk()
    const incMs = await time(async () => {
      changedNames = (await registry.sync()).changed.length
    })
    if (changedNames !== CHANGED)
      throw new Error(`incremental sync changed ${changedNames} names, expected ${CHANGED}`)
    report(once(`system git fetch (${CHANGED} changed records)`, fetchMs))
    report(once(`gitRegistry incremental sync (${CHANGED} changed, verified)`, incMs))
    line('incremental sync / git fetch', incMs, fetchMs, 'git fetch')

    // Cold: every lookup reads a name not read before (the registry keeps no record bytes, only blob ids).
    const lookup = await measure(
      'gitRegistry cold lookup from the index',
      (i) => registry.lookup(names[i % names.length]!),
      {
        batch: 500,
        minMs: 1000,
        warmupMs: 0,
      },
    )
    // Baseline: reading the same record file from system git's checked-out clone.
    const checkout = join(root, 'sys-clone-0', 'records')
    const fileRead = await measure(
      'readFile of the record from the git checkout',
      (i) => readFile(join(checkout, `${names[i % names.length]!}.json`)),
      { batch: 500, minMs: 1000, warmupMs: 0 },
    )
    report(lookup)
    report(fileRead)
    ratio('cold lookup / readFile of the checkout', lookup, fileRead)
    target('cold lookup median', lookup.medianUs, 1000, 'us', false)
    await registry.stop()
    await verifier.close()
  } finally {
    await server.stop()
    await rm(root, { recursive: true, force: true })
  }
}
