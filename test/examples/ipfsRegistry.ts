import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, generateSigner } from 'function-mesh'
import { type IpfsRegistry, ipfsRegistry } from 'function-mesh/registries/ipfs'

const signer = await generateSigner()
const owners = { 'acme.com': [signer.id] }
const ipfs = ipfsRegistry({
  dir: join(await mkdtemp(join(tmpdir(), 'fmesh-')), 'ipfs'), // the registry's own Helia node's stores
  // helia: await createHelia({ ... }),                        // or a started node it uses and never stops
})
const mesh = await createMesh({ registries: [ipfs], trust: { owners } })
const registry = mesh.registry<IpfsRegistry>('ipfs')

const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' } as const
const published = await mesh.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: { '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] } },
  },
  { signer },
)
console.log(published.receipts[0]?.location?.replace(/bafk\w+/, 'CID')) // -> ipfs:/ipfs/CID

const { ipnsName, ipnsSequence, names } = registry.status() // the root is published under ipnsName
console.log(ipnsName?.startsWith('/ipns/k51'), ipnsSequence, names) // -> true 2n 1

await mesh.close()
