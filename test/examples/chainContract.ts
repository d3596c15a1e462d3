import { Contract, hexlify, id, JsonRpcProvider, sha256, toUtf8Bytes, Wallet } from 'ethers'
import { generateSigner } from 'function-mesh'
import { deployRegistry, REGISTRY_ABI, startAnvil } from 'function-mesh/registries/chain'

const node = await startAnvil() // @foundry-rs/anvil's binary, on 127.0.0.1, a free port
const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
const owner = new Wallet(node.accounts[0]!.privateKey, provider) // a funded dev account
const { address } = await deployRegistry(owner) // the committed artifact
const registry = new Contract(address, REGISTRY_ABI, owner)
const send = async (method: string, ...args: unknown[]) =>
  (await registry.getFunction(method)(...args)).wait()

const key = await generateSigner() // the ed25519 did:key that signs acme.com's records
await send('claim', 'acme.com') // first claim wins
await send('addPublisher', id('acme.com'), key.publicKey) // namespaces are keyed by keccak256
const bytes = toUtf8Bytes('{"name":"acme.com/image/sharpen"}') // stand-in for canonical record bytes
// name, seq, record digest (sha-256), version set digest, pointer kind (1 CID, 2 inline), pointer
await send('publish', 'acme.com/image/sharpen', 1, sha256(bytes), sha256(toUtf8Bytes('1.2.0')), 2, bytes)

const [anchor, nsOwner, publishers] = await registry.getFunction('lookup')('acme.com/image/sharpen') // one eth_call
console.log(anchor.seq, nsOwner === owner.address, publishers[0] === hexlify(key.publicKey)) // 1n true true
provider.destroy()
await node.stop()
