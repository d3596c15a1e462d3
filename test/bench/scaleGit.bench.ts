import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'
import { measure, quick, ratio, record, report, target, time } from './_harness.js'
import { count, perItem, plot, STRIDE, settledMemory } from './_scale.js'

// A real Git registry loaded and verified at scale: a repository of N really signed records (one
// throwaway key) served by git http-backend on 127.0.0.1, synced from empty by gitRegistry (the time
// it is ready, then the time every record is verified), beside `git clone --bare` of the same
// repository from the same server in the same run; then the registry's memory per record (after full collections) and cold lookups beside an
// awaited Map.get at the same size. N: 1,000 and 100,000 (`--quick`: 1,000). 1,000,000 is out of
// this run's budget (signing alone would take minutes): scaleResolve.bench.ts covers the index at 1M.
const SIZES = quick ? [1_000] : [1_000, 100_000]

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000
}

const nameOf = (i: number) => `ns${i % 10}.example/group-${Math.floor(i / 100) % 1000}/fn-${i}`

export default async function scaleGitBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-scale-git-'))
  const server = await startGitHttpServer({ root: join(root, 'srv') })
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const records: EncodedRecord[] = []
    for (const n of SIZES) {
      const signMs = await time(async () => {
        for (let i = records.length; i < n; i++) records.push(await signed(key, nameOf(i), 1))
      })
      const bare = join(server.root, `records-${n}.git`)
      await commitFiles(bare, [
        { path: 'README.md', bytes: new TextEncoder().encode('# scale\n') },
        ...records.slice(0, n).map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
      ])
      await systemGit(['repack', '-adq'], bare)
      const url = server.url(`records-${n}.git`)
      console.log(`  (${count(n)} records: ${signMs.toFixed(0)} ms more signing; repository ready)`)

      const cloneMs = await time(() =>
        systemGit(['clone', '--quiet', '--bare', url, join(root, `clone-${n}`)]),
      )
      const before = await settledMemory()
      const components = registryComponents({ trust: { owners } })
      const registry = gitRegistry({ dir: join(root, `registry-${n}`), url, syncIntervalMs: 0 })(components)
      // Ready (fetched, indexed, answering; each record verified before it is first served), then
      // every record verified in the background: CPU of every thread beside the wall time.
      let cpu = process.cpuUsage()
      const readyMs = await time(() => registry.start())
      const readyCpu = cpuMs(process.cpuUsage(cpu))
      if (registry.status().names !== n)
        throw new Error(`indexed ${registry.status().names} names, expected ${n}`)
      cpu = process.cpuUsage()
      const verifyMs = await time(() => registry.verified())
      const verifyCpu = cpuMs(process.cpuUsage(cpu))
      const status = registry.status()
      if (status.verified !== n || status.pending !== 0)
        throw new Error(`verified ${status.verified} of ${n} records (${status.pending} pending)`)
      const syncMs = readyMs + verifyMs
      const mem = perItem(before, await settledMemory(), n)
      record({
        name: `Git registry ready (initial sync, index built), ${count(n)} records`,
        value: readyMs,
        unit: 'ms',
        baseline: `git clone --bare, ${count(n)} records`,
        baselineValue: cloneMs,
        ratio: readyMs / cloneMs,
        note: `${readyCpu.toFixed(0)} ms of CPU (all threads); time ratio, lower is better`,
      })
      record({
        name: `Git registry load and verify (initial sync, every record verified), ${count(n)} records`,
        value: syncMs,
        unit: 'ms',
        baseline: `git clone --bare, ${count(n)} records`,
        baselineValue: cloneMs,
        ratio: syncMs / cloneMs,
        note: `${((n / syncMs) * 1000).toFixed(0)} records/s; ${(readyCpu + verifyCpu).toFixed(0)} ms of CPU (all threads); time ratio, lower is better`,
      })
      console.log(
        `  Git registry of ${count(n)} records: ready ${readyMs.toFixed(0)} ms (${readyCpu.toFixed(0)} ms CPU), every record verified ${syncMs.toFixed(0)} ms (${(readyCpu + verifyCpu).toFixed(0)} ms CPU, ${((n / syncMs) * 1000).toFixed(0)} records/s); git clone --bare ${cloneMs.toFixed(0)} ms (ready ${(readyMs / cloneMs).toFixed(2)}x, verified ${(syncMs / cloneMs).toFixed(2)}x)`,
      )
      if (n >= 100_000)
        target(`Git registry of ${count(n)} records loaded and verified`, syncMs, 15_000, 'ms', false)
      record({
        name: `Git registry memory per record, ${count(n)} records`,
        value: mem.total,
        unit: 'bytes',
        note: `the started registry (index, object reader, caches): heap ${mem.heap.toFixed(0)} + off-heap ${mem.external.toFixed(0)}`,
      })
      console.log(`  Git registry memory per record, ${count(n)} records: ${mem.total.toFixed(0)} bytes`)
      plot('scale-git', 'gitRegistry ready', n, readyMs)
      plot('scale-git', 'gitRegistry every record verified', n, syncMs)
      plot('scale-git', 'git clone --bare', n, cloneMs)

      const names = records.slice(0, n).map((r) => r.record.name)
      const queries = Array.from({ length: n }, (_, i) => names[(i * STRIDE) % n]!)
      const map = new Map(names.map((name, i) => [name, i]))
      const opts = { batch: 500, minMs: 1000, warmupMs: 0 }
      const mapGet = await measure(
        `awaited Map.get, ${count(n)} names`,
        (i) => Promise.resolve(map.get(queries[i % n]!)),
        opts,
      )
      const lookup = await measure(
        `gitRegistry cold lookup, ${count(n)} records`,
        (i) => registry.lookup(queries[i % n]!),
        opts,
      )
      report(mapGet)
      report(lookup)
      ratio(`Git cold lookup / awaited Map.get, ${count(n)} records`, lookup, mapGet)
      plot('scale-git-lookup', 'gitRegistry lookup', n, lookup.opsPerSec)
      await registry.stop()
      await components.close()
    }
  } finally {
    await server.stop()
    await rm(root, { recursive: true, force: true })
  }
}
