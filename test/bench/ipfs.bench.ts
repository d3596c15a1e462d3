import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import { ipfsRegistry } from '../../registries/ipfs/index.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { measure, ratio, report, target, time } from './_harness.js'

// First increment of the IPFS registry: a local Helia node on disk, no network. The remote-fetch and
// 100,000-record rows come with networked mode.
const SIZES = [1, 1_000]

const nameOf = (i: number) => `ns${i % 10}.example/group-${Math.floor(i / 100) % 100}/fn-${i}`

/**
 * IPFS registry: publish latency and warm lookup (index + one blockstore read) at 1 and 1,000
 * records, beside a plain `@helia/ipns` resolve of the same root plus `unixfs.cat` of the record's
 * path on the same node (the reader's path without the registry's index), and a restart.
 */
export default async function ipfsBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-bench-'))
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const components = registryComponents({ trust: { owners } })
    for (const size of SIZES) {
      const records: EncodedRecord[] = []
      for (let i = 0; i < size; i++) records.push(await signed(key, nameOf(i), 1))
      const dir = join(root, `node-${size}`)
      const registry = ipfsRegistry({ dir })(components)
      await registry.start()
      const publishMs = await time(async () => {
        for (const record of records) await registry.publish(record)
      })
      console.log(
        `  publish, ${size} records into an empty registry: ${(publishMs / size).toFixed(2)} ms a record`,
      )
      const extra = await signed(key, 'ns0.example/extra/fn', 1)
      const oneMs = await time(() => registry.publish(extra))
      console.log(`  publish one record into a registry of ${size}: ${oneMs.toFixed(2)} ms`)

      const names = records.map((r) => r.record.name)
      const lookup = await measure(
        `lookup, ${size} records (index + block read)`,
        (i) => registry.lookup(names[i % names.length]!),
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
          const path = `${names[i % names.length]!}.json`
          for await (const _ of fs.cat(top, { path, offline: true })) void _
        },
        { batch: 20, minMs: 500 },
      )
      report(lookup)
      report(baseline)
      ratio(`lookup / ipns + cat, ${size} records`, lookup, baseline)
      target(`warm lookup median, ${size} records`, lookup.medianUs, 100, 'us', false)
      await registry.stop()
      const restartMs = await time(async () => {
        const again = ipfsRegistry({ dir })(components)
        await again.start()
        await again.stop()
      })
      console.log(
        `  restart (open the node, load the index of ${size + 1} names): ${restartMs.toFixed(0)} ms`,
      )
      // The same lookups with the record cache off: index + block file read + sha-256 check each time.
      const uncached = ipfsRegistry({ dir, recordCacheBytes: 0 })(components)
      await uncached.start()
      const blockRead = await measure(
        `lookup, ${size} records, cache off (index + block read + hash)`,
        (i) => uncached.lookup(names[i % names.length]!),
        { batch: 200, minMs: 500 },
      )
      report(blockRead)
      ratio(`lookup cache off / ipns + cat, ${size} records`, blockRead, baseline)
      await uncached.stop()
    }
    await components.close()
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
