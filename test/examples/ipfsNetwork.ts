import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, generateSigner } from 'function-mesh'
import { peerNode } from 'function-mesh/node'
import { type IpfsRegistry, ipfsRegistry } from 'function-mesh/registries/ipfs'

const signer = await generateSigner()
const trust = { owners: { 'acme.com': [signer.id] } }
const tmp = await mkdtemp(join(tmpdir(), 'fmesh-'))

// A publishes: its node listens on 127.0.0.1 (the default) and serves blocks and its IPNS record.
const a = await createMesh({
  registries: [ipfsRegistry({ dir: join(tmp, 'a'), network: {} })],
  trust,
  dataDir: join(tmp, 'a-data'),
})
const aIpfs = a.registry<IpfsRegistry>('ipfs')
const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' } as const
await a.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: { '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] } },
  },
  { signer },
)

// B follows A's IPNS name; its peer node runs on the IPFS registry's libp2p node (one node, one port).
const b = await createMesh({
  registries: [
    ipfsRegistry({
      dir: join(tmp, 'b'),
      network: { bootstrap: [aIpfs.libp2p!.getMultiaddrs()[0]!.toString()] },
      follow: [aIpfs.ipnsName!],
    }),
  ],
  services: [
    (components) => {
      const ipfs = components.registries.find((r) => r.id === 'ipfs') as IpfsRegistry
      return peerNode({ libp2p: ipfs.libp2p! })(components) // the registry owns the node
    },
  ],
  trust,
  dataDir: join(tmp, 'b-data'),
})

// Not in B's own tree: A's root through the DHT, the path and the record over bitswap, then pinned.
const found = await b.resolve('acme.com/image/sharpen@^1.2')
console.log(found.version, 'registry' in found.source && found.source.registry) // -> 1.2.0 ipfs

await a.close() // B keeps serving what it fetched
const again = await b.resolve('acme.com/image/sharpen@^1.2', { cache: 'refresh' })
console.log(again.version, again.source.kind) // -> 1.2.0 registry
await b.close()
