import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, generateSigner } from 'function-mesh'
import { type PeerNode, peerNode } from 'function-mesh/node'

const signer = await generateSigner()
const trust = { owners: { 'acme.com': [signer.id] } }

/** A mesh whose only registry is what its peers hold; `node` is its peer node service. */
async function startNode() {
  let node: PeerNode | undefined
  const make = peerNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }) // the identity key goes in dataDir/peer/key
  const mesh = await createMesh({
    services: [async (components) => (node = await make(components))],
    trust,
    dataDir: await mkdtemp(join(tmpdir(), 'fmesh-')),
  })
  return { mesh, node: node! }
}

const a = await startNode()
const b = await startNode()
await b.node.dial(a.node.addrs[0]!) // e.g. /ip4/127.0.0.1/tcp/41231/p2p/12D3KooW...

// Stored on a, announced on /fmesh/records/1; b verifies it before storing or forwarding it.
const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' } as const
await a.mesh.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: { '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] } },
  },
  { signer },
)

// Found in b's own store if the announcement arrived, else asked of a over /fmesh/lookup/1.0.0.
const found = await b.mesh.resolve('acme.com/image/sharpen@^1.2')
console.log(found.version, found.source.kind, 'registry' in found.source && found.source.registry)
// -> 1.2.0 registry peer

await b.mesh.close()
await a.mesh.close()
