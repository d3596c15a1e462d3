import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type IpfsRegistry, type IpfsRegistryInit, ipfsRegistry } from '../../registries/ipfs/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { until } from '../_helpers/until.js'

let root: string
let dirs = 0
let signer: LocalSigner
let components: StandaloneComponents
const open: IpfsRegistry[] = []

const nextDir = () => join(root, `node-${dirs++}`)
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)
const network = { listen: ['/ip4/127.0.0.1/tcp/0'] }

async function openRegistry(init: IpfsRegistryInit): Promise<IpfsRegistry> {
  const registry = ipfsRegistry({ network, ...init })(components)
  open.push(registry)
  await registry.start()
  return registry
}
async function stopRegistry(registry: IpfsRegistry): Promise<void> {
  open.splice(open.indexOf(registry), 1)
  await registry.stop()
}
async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}
/** Dials `to` from `from` and waits until each holds the other in its DHT routing table. */
async function connect(from: IpfsRegistry, to: IpfsRegistry): Promise<void> {
  const a = from.libp2p!
  const b = to.libp2p!
  await a.dial(b.getMultiaddrs()[0]!)
  const table = (node: Libp2p) =>
    (node.services as { dht: { routingTable: { find(p: unknown): Promise<unknown> } } }).dht.routingTable
  await until(
    async () =>
      (await table(a).find(b.peerId)) !== undefined && (await table(b).find(a.peerId)) !== undefined,
    {
      what: 'both DHT routing tables hold the other peer',
    },
  )
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-net-'))
  signer = await generateSigner()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
beforeEach(() => {
  components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
})
afterEach(async () => {
  for (const registry of open.splice(0).reverse()) await registry.stop()
  await components.close()
})

describe('ipfsRegistry networked', () => {
  it("B, following A, fetches A's record over bitswap, verified; it keeps serving it when A is gone, to C too, and across a restart", async () => {
    const a = await openRegistry({ dir: nextDir() })
    const record = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
    await a.publish(record)
    const aName = a.ipnsName!
    const bDir = nextDir()
    const b = await openRegistry({ dir: bDir, follow: [aName] })
    await connect(b, a)
    const entry = await b.lookup('acme.com/image/sharpen')
    expect(text(entry?.bytes)).toBe(text(record.bytes))
    expect(entry?.location).toMatch(/^ipfs:\/ipfs\/b/)
    const names: string[] = []
    for await (const n of b.list('acme.com/**')) names.push(n)
    expect(names).toEqual(['acme.com/image/sharpen'])

    await stopRegistry(a)
    expect(text((await b.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))

    const c = await openRegistry({ dir: nextDir(), follow: [aName] })
    await connect(c, b)
    expect(text((await c.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))
    await stopRegistry(c)

    await stopRegistry(b)
    // Asked again at once (refresh 0), A unreachable: the kept, pinned copy is served.
    const again = await openRegistry({ dir: bDir, follow: [aName], followRefreshMs: 0 })
    expect(text((await again.lookup('acme.com/image/sharpen'))?.bytes)).toBe(text(record.bytes))
  })
})
