import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import { type IpfsRegistry, ipfsRegistry } from '../../registries/ipfs/index.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import type { LocalSigner } from '../../src/trust/signer.js'
import { generateSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { measure, quick, ratio, record, report, target, time } from './_harness.js'
import { bulkFill } from './_ipfsBulk.js'

// A local Helia node on disk per size, no network (remote fetch is ipfsNetwork.bench.ts). Up to 1,000
// records are published one by one; the largest size is filled in bulk (see bulkFill).
const PUBLISHED = [1, 1_000]
const BULK = quick ? 10_000 : 100_000
const SIZES = [...PUBLISHED, BULK]
/** Names a warm lookup cycles through: a hot set spread over the registry, small enough to stay cached. */
const HOT = 1_000
const STRIDE = 7919
/** Interleaved rounds of the growth check. */
const ROUNDS = quick ? 5 : 9
/** Records each registry takes per round of the publish growth check. */
const PER_ROUND = quick ? 2 : 4

const nameOf = (i: number) => `ns${i % 10}.example/group-${Math.floor(i / 100) % 100}/fn-${i}`

interface Sized {
  size: number
  dir: string
  names: string[]
  registry: IpfsRegistry
  /** New records published in the growth rounds (into existing group directories). */
  fresh: number
}

/**
 * IPFS registry at 1, 1,000 and 100,000 records (`--quick`: 10,000): publish, warm lookup (index +
 * cached block), lookup with the record cache off (index + block file read + sha-256), beside a plain
 * `@helia/ipns` resolve of the same root plus `unixfs.cat` of the record's path on the same node (the
 * reader's path without the registry's index), and a restart. Then the growth check: CPU time per
 * lookup and per publish at the largest size against 1,000, in interleaved rounds, each within
 * log(n)/log(1,000).
 */
export default async function ipfsBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-bench-'))
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const components = registryComponents({ trust: { owners } })
    const sized: Sized[] = []
    for (const size of SIZES) sized.push(await openSized(root, key, components, size))
    await growth(sized, 'warm lookup', (s, i) => hotName(s, i), 20_000)
    await publishGrowth(sized, key)
    // The same lookups with the record cache off: index + block file read + sha-256 check each time.
    for (const s of sized) {
      await s.registry.stop()
      s.registry = ipfsRegistry({ dir: s.dir, recordCacheBytes: 0 })(components)
      await s.registry.start()
    }
    await growth(sized, 'lookup, cache off', (s, i) => s.names[i % s.names.length]!, 200)
    for (const s of sized) await s.registry.stop()
    await components.close()
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

const hotName = (s: Sized, i: number) => s.names[((i % HOT) * STRIDE) % s.names.length]!

/** Makes the registry of `size` records, measures it on its own, and leaves it started. */
async function openSized(
  root: string,
  key: LocalSigner,
  components: ReturnType<typeof registryComponents>,
  size: number,
): Promise<Sized> {
  const dir = join(root, `node-${size}`)
  let registry = ipfsRegistry({ dir })(components)
  await registry.start()
  let names: string[]
  if (PUBLISHED.includes(size)) {
    const records: EncodedRecord[] = []
    for (let i = 0; i < size; i++) records.push(await signed(key, nameOf(i), 1))
    const publishMs = await time(async () => {
      for (const r of records) await registry.publish(r)
    })
    console.log(
      `  publish, ${size} records into an empty registry: ${(publishMs / size).toFixed(2)} ms a record`,
    )
    names = records.map((r) => r.record.name)
  } else {
    const templates = new Map<string, EncodedRecord>()
    for (let n = 0; n < 10; n++) templates.set(`ns${n}.example`, await signed(key, nameOf(n), 1))
    const filled = await bulkFill(registry, templates, size, nameOf)
    console.log(
      `  bulk fill of ${size} records (UnixFS import, IPNS, index): ${(filled.ms / 1000).toFixed(1)} s`,
    )
    names = filled.names
  }
  const extra = await signed(key, 'ns0.example/extra/fn', 1)
  await registry.stop()
  const restartMs = await time(async () => {
    registry = ipfsRegistry({ dir })(components)
    await registry.start()
  })
  console.log(`  restart (open the node, load the index of ${size} names): ${restartMs.toFixed(0)} ms`)
  const oneMs = await time(() => registry.publish(extra))
  console.log(`  publish one record into a registry of ${size}: ${oneMs.toFixed(2)} ms`)

  const s: Sized = { size, dir, names, registry, fresh: 0 }
  // Warm means every name of the hot set read once, whatever the measuring window.
  for (let i = 0; i < HOT; i++) await registry.lookup(hotName(s, i))
  const lookup = await measure(
    `lookup, ${size} records (index + cached block)`,
    (i) => registry.lookup(hotName(s, i)),
    { batch: 200, minMs: 500 },
  )
  const helia = registry.helia!
  const fs = unixfs(helia)
  const name = ipns(helia)
  const ipnsKey = CID.parse(registry.status().ipnsName!.slice('/ipns/'.length))
  const baseline = await measure(
    `ipns resolve + unixfs.cat of the path, ${size} records`,
    async (i) => {
      let value = ''
      for await (const result of name.resolve(ipnsKey, { offline: true })) value = result.value
      const top = CID.parse(value.slice('/ipfs/'.length))
      const path = `${hotName(s, i)}.json`
      for await (const _ of fs.cat(top, { path, offline: true })) void _
    },
    { batch: 20, minMs: 500 },
  )
  report(lookup)
  report(baseline)
  ratio(`lookup / ipns + cat, ${size} records`, lookup, baseline)
  target(`warm lookup median, ${size} records`, lookup.medianUs, 100, 'us', false)
  return s
}

/** CPU microseconds per call of `op` over `batch` calls (process-wide: the node's threads count too). */
async function cpuPerOp(batch: number, op: (i: number) => Promise<unknown>, from: number): Promise<number> {
  const before = process.cpuUsage()
  for (let i = 0; i < batch; i++) await op(from + i)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / batch
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** The growth row: the largest size's figure against 1,000's, within log(n)/log(1,000). */
function growthTarget(what: string, bySize: Map<number, number>): void {
  const small = bySize.get(1_000)!
  const large = bySize.get(BULK)!
  const goal = Math.log(BULK) / Math.log(1_000)
  for (const [size, us] of bySize) {
    console.log(
      `  ${what}, ${size} records: ${us.toFixed(2)} us CPU (median of ${ROUNDS} interleaved rounds)`,
    )
    record({ name: `${what}, ${size} records, CPU`, value: us, unit: 'us' })
  }
  target(`${what} CPU ${BULK} / 1000 records`, large / small, goal, 'x', false)
}

/** Lookups in each registry, in interleaved rounds; the median CPU time per lookup by size. */
async function growth(
  sized: Sized[],
  what: string,
  nameAt: (s: Sized, i: number) => string,
  batch: number,
): Promise<void> {
  const samples = new Map<number, number[]>(sized.map((s) => [s.size, []]))
  for (let round = -1; round < ROUNDS; round++) {
    for (const s of sized) {
      const us = await cpuPerOp(batch, (i) => s.registry.lookup(nameAt(s, i)), (round + 1) * batch)
      if (round >= 0) samples.get(s.size)!.push(us)
    }
  }
  growthTarget(what, new Map([...samples].map(([size, v]) => [size, median(v)])))
}

/** One new record into an existing group directory of each registry, in interleaved rounds. */
async function publishGrowth(sized: Sized[], key: LocalSigner): Promise<void> {
  const cpu = new Map<number, number[]>(sized.map((s) => [s.size, []]))
  const wall = new Map<number, number[]>(sized.map((s) => [s.size, []]))
  for (let round = -1; round < ROUNDS; round++) {
    for (const s of sized) {
      const fresh: EncodedRecord[] = []
      for (let k = 0; k < PER_ROUND; k++) {
        const at = s.names[(s.fresh * STRIDE) % s.names.length]!
        fresh.push(await signed(key, `${at.slice(0, at.lastIndexOf('/'))}/new-${s.fresh++}`, 1))
      }
      const start = performance.now()
      const us = await cpuPerOp(PER_ROUND, (k) => s.registry.publish(fresh[k]!), 0)
      if (round < 0) continue
      cpu.get(s.size)!.push(us)
      wall.get(s.size)!.push((performance.now() - start) / PER_ROUND)
    }
  }
  for (const s of sized)
    console.log(`  publish one into ${s.size} records: ${median(wall.get(s.size)!).toFixed(2)} ms wall`)
  growthTarget('publish one', new Map([...cpu].map(([size, v]) => [size, median(v)])))
}
