import { JsonRpcProvider, Wallet } from 'ethers'
import { createMesh, generateSigner } from 'function-mesh'
import { type ChainRegistry, chainRegistry, deployRegistry, startAnvil } from 'function-mesh/registries/chain'

const node = await startAnvil()
const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
const { address, blockNumber } = await deployRegistry(new Wallet(node.accounts[9]!.privateKey, provider))
provider.destroy()

// The namespace owner's mesh: its Ethereum account claims acme.com and registers a publisher key.
const owner = await createMesh({
  registries: [
    chainRegistry({
      rpcUrl: node.rpcUrl,
      address,
      fromBlock: blockNumber,
      signer: node.accounts[0]!.privateKey,
    }),
  ],
})
const chain = owner.registry<ChainRegistry>('chain')
const key = await generateSigner() // the ed25519 did:key that signs acme.com's records
await chain.claim('acme.com')
await chain.addPublisher('acme.com', key.id)
const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' } as const
await owner.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: { '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] } },
  },
  { signer: key }, // the record's signature; the anchor's transaction is signed by the account
)

// Anyone's mesh: no pinned owners, no signer. The chain says who may publish for acme.com.
const reader = await createMesh({
  registries: [chainRegistry({ rpcUrl: node.rpcUrl, address, fromBlock: blockNumber })],
})
const result = await reader.resolve('acme.com/image/sharpen@^1.2')
const { verified } = result
console.log(result.version, 'trustSource' in verified && verified.trustSource === `chain:31337/${address}`) // -> 1.2.0 true

await reader.close()
await owner.close()
await node.stop()
