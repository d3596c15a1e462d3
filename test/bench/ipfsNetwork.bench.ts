import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipns } from '@helia/ipns'
import { unixfs } from '@helia/unixfs'
import type { Libp2p } from '@libp2p/interface'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { type IpfsRegistry, ipfsRegistry } from '../../registries/ipfs/index.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'
import { type Measurement, measure, ratio, report, target } from './_harness.js'

const RECORDS = 200
const nameOf = (i: number) => `ns${i % 10}.example/group-${Math.floor(i / 10) % 10}/fn-${i}`
const network = { listen: ['/ip4/127.0.0.1/tcp/0'] }

async function connect(from: Libp2p, to: Libp2p): Promise<void> {
  await from.dial(to.getMultiaddrs()[0]!)
  const table = (node: Libp2p) =>
    (node.services as { dht: { routingTable: { find(p: unknown): Promise<unknown> } } }).dht.routingTable
  await until(async () => (await table(from).find(to.peerId)) !== undefined, { what: 'DHT routing table' })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const asMeasurement = (name: string, ms: number[]): Measurement => {
  const m = median(ms)
  return { name, opsPerSec: 1000 / m, medianUs: m * 1000, ops: ms.length }
}

/**
 * IPFS registry, networked on loopback: node A publishes; B follows A's IPNS name and looks each
 * record up cold (IPNS over the private DHT, the path walked and the record fetched over bitswap,
 * checked and pinned); C, a node of the same configuration, does a plain `@helia/ipns` resolve plus
 * `unixfs.cat` of the same paths from A as the baseline. Then B's lookups of records it keeps.
 */
export default async function ipfsNetworkBench(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-net-bench-'))
  const open: IpfsRegistry[] = []
  try {
    const key = await generateSigner()
    const owners: Record<string, string[]> = {}
    for (let n = 0; n < 10; n++) owners[`ns${n}.example`] = [key.id]
    const components = registryComponents({ trust: { owners } })
    const start = async (init: Parameters<typeof ipfsRegistry>[0]) => {
      const registry = ipfsRegistry({ network, ...init })(components)
      open.push(registry)
      await registry.start()
      return registry
    }
    const a = await start({ dir: join(root, 'a') })
    const names: string[] = []
    const cids: CID[] = []
    for (let i = 0; i < RECORDS; i++) {
      const record = await signed(key, nameOf(i), 1)
      const receipt = await a.publish(record)
      names.push(record.record.name)
      cids.push(CID.parse(receipt.location!.slice('ipfs:/ipfs/'.length)))
    }
    const b = await start({ dir: join(root, 'b'), follow: [a.ipnsName!], followTimeoutMs: 60_000 })
    const c = await start({ dir: join(root, 'c') })
    await connect(b.libp2p!, a.libp2p!)
    await connect(c.libp2p!, a.libp2p!)
    const plainIpns = ipns(c.helia!)
    const plainFs = unixfs(c.helia!)
    const aKey = CID.parse(a.ipnsName!.slice('/ipns/'.length), base36)

    const remote: number[] = []
    const baseline: number[] = []
    for (const name of names) {
      let t = performance.now()
      const entry = await b.lookup(name)
      remote.push(performance.now() - t)
      if (entry === undefined) throw new Error(`B did not find ${name}`)
      t = performance.now()
      let value = ''
      for await (const result of plainIpns.resolve(aKey, { nocache: true })) value = result.value
      const top = CID.parse(value.slice('/ipfs/'.length))
      for await (const _ of plainFs.cat(top, { path: `${name}.json` })) void _
      baseline.push(performance.now() - t)
    }
    const cold = asMeasurement(`remote fetch from a peer (cold lookup), ${RECORDS} names`, remote)
    const plain = asMeasurement(`ipns resolve + unixfs.cat over the network`, baseline)
    report(cold)
    report(plain)
    console.log(
      `  first remote fetch (new connection streams): ${remote[0]!.toFixed(1)} ms; baseline's first: ${baseline[0]!.toFixed(1)} ms`,
    )
    ratio('remote fetch / ipns + cat', cold, plain)
    target('remote fetch median on loopback', median(remote), 50, 'ms', false)
    const slower = median(remote) / median(baseline)
    console.log(
      `  target cold lookup within 1.5x of ipns + cat: ${slower.toFixed(2)}x ${slower <= 1.5 ? 'MET' : 'NOT MET'}`,
    )
    // One record block by its CID from a peer over bitswap (no IPNS, no path), on a fourth node.
    const d = await start({ dir: join(root, 'd') })
    await connect(d.libp2p!, a.libp2p!)
    const blocks: number[] = []
    for (const cid of cids) {
      const t = performance.now()
      for await (const _ of d.helia!.blockstore.get(cid)) void _
      blocks.push(performance.now() - t)
    }
    const block = asMeasurement('one record block by CID from a peer (bitswap)', blocks)
    report(block)
    target('record block fetch median on loopback', median(blocks), 50, 'ms', false)
    const kept = await measure(
      'lookup of a kept followed record',
      (i) => b.lookup(names[i % names.length]!),
      {
        batch: 200,
        minMs: 500,
      },
    )
    report(kept)
    // A follower that resolves the publisher's IPNS name on every lookup (followRefreshMs 0: no root
    // reuse), over the same names: the cold path with IPNS each time.
    const e = await start({
      dir: join(root, 'e'),
      follow: [a.ipnsName!],
      followRefreshMs: 0,
      followTimeoutMs: 60_000,
    })
    await connect(e.libp2p!, a.libp2p!)
    const everyTime: number[] = []
    for (const name of names) {
      const t = performance.now()
      if ((await e.lookup(name)) === undefined) throw new Error(`E did not find ${name}`)
      everyTime.push(performance.now() - t)
    }
    const resolving = asMeasurement('remote fetch, IPNS resolved on every lookup', everyTime)
    report(resolving)
    ratio('remote fetch (IPNS every lookup) / ipns + cat', resolving, plain)
    await components.close()
  } finally {
    for (const registry of open.reverse()) await registry.stop()
    await rm(root, { recursive: true, force: true, maxRetries: 5 })
  }
}
