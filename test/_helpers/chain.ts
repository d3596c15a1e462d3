import {
  type BaseContract,
  Contract,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  hexlify,
  type Interface,
  id,
  JsonRpcProvider,
  type LogDescription,
  Wallet,
} from 'ethers'
import { expect } from 'vitest'
import { chainRegistry } from '../../registries/chain/chainRegistry.js'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import { REGISTRY_ABI } from '../../registries/chain/registryArtifact.js'
import { type AnvilNode, startAnvil } from '../../registries/chain/startAnvil.js'
import type { ChainRegistry, ChainRegistryInit } from '../../registries/chain/types.js'
import type { RegistryComponents } from '../../src/components.js'
import { generateSigner } from '../../src/trust/signer.js'

/** A real anvil on 127.0.0.1 and a provider to it; one per test file. */
export interface Chain {
  node: AnvilNode
  provider: JsonRpcProvider
  /** Funded dev accounts 0..9 as ethers wallets. */
  wallets: Wallet[]
  /** Deploys a fresh registry and returns it bound to `wallets[0]`. */
  deploy(): Promise<Contract>
  stop(): Promise<void>
}

export async function startChain(): Promise<Chain> {
  const node = await startAnvil()
  // cacheTimeout -1: ethers otherwise serves a repeated eth_getTransactionCount from a 250 ms cache,
  // and back-to-back transactions from one account reuse a nonce.
  const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, {
    batchMaxCount: 1,
    staticNetwork: true,
    cacheTimeout: -1,
  })
  const wallets = node.accounts.map((a) => new Wallet(a.privateKey, provider))
  return {
    node,
    provider,
    wallets,
    async deploy() {
      const { address } = await deployRegistry(wallets[9]!)
      return new Contract(address, REGISTRY_ABI, wallets[0]!)
    },
    async stop() {
      provider.destroy()
      await node.stop()
    },
  }
}

export const nsHash = (namespace: string): string => id(namespace)
export const nameHash = (name: string): string => id(name)

/** The 32-byte ed25519 public key of a fresh did:key, as the contract stores publisher keys. */
export async function publisherKey(): Promise<string> {
  return hexlify((await generateSigner()).publicKey)
}

/** Sends `method(...args)` from `contract`'s runner and waits for the receipt. */
export async function send(
  contract: Contract,
  method: string,
  ...args: unknown[]
): Promise<ContractTransactionReceipt> {
  const tx = (await contract.getFunction(method)(...args)) as ContractTransactionResponse
  const receipt = await tx.wait()
  if (receipt === null) throw new Error(`${method}: no receipt`)
  return receipt
}

/** Expects `action` to revert with the custom error `name` (and `args`, when given). */
export async function expectRevert(
  contract: BaseContract,
  action: Promise<unknown>,
  name: string,
  args?: readonly unknown[],
): Promise<void> {
  const err = await action.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected a revert with ${name}`).toBeDefined()
  const data = (err as { data?: string }).data
  const parsed = typeof data === 'string' ? contract.interface.parseError(data) : null
  expect(parsed?.name, `revert data ${String(data)}`).toBe(name)
  if (args !== undefined) expect([...parsed!.args]).toEqual([...args])
}

/** The registry's events in a receipt, decoded, with their raw topics. */
export function eventsOf(
  iface: Interface,
  receipt: ContractTransactionReceipt,
): { name: string; args: LogDescription['args']; topics: readonly string[] }[] {
  const out: { name: string; args: LogDescription['args']; topics: readonly string[] }[] = []
  for (const log of receipt.logs) {
    const parsed = iface.parseLog(log)
    if (parsed !== null) out.push({ name: parsed.name, args: parsed.args, topics: log.topics })
  }
  return out
}

/** A left-padded 32-byte topic for an address. */
export const addressTopic = (address: string): string =>
  `0x${address.slice(2).toLowerCase().padStart(64, '0')}`

/** A chainRegistry over a freshly deployed contract, sending as dev account 0, and where it is. */
export async function freshChainRegistry(
  chain: Chain,
  components: RegistryComponents,
): Promise<{ registry: ChainRegistry; address: string; blockNumber: number }> {
  const { address, blockNumber } = await deployRegistry(chain.wallets[9]!)
  const registry = chainRegistry({
    rpcUrl: chain.node.rpcUrl,
    address,
    fromBlock: blockNumber,
    signer: chain.node.accounts[0]!.privateKey,
  })(components)
  return { registry, address, blockNumber }
}

/** What a chain registry in a test is built from besides the chain: the deployment it reads. */
export interface Deployment {
  readonly address: string
  readonly fromBlock: number
}

/**
 * A chainRegistry factory over `deployment` on `chain`; `account` sends as that dev account, the
 * rest overrides the registry's options.
 */
export function chainRegistryOn(
  chain: Chain,
  deployment: Deployment,
  init: Partial<ChainRegistryInit> & { account?: number } = {},
) {
  const { account, ...rest } = init
  return chainRegistry({
    rpcUrl: chain.node.rpcUrl,
    address: deployment.address,
    fromBlock: deployment.fromBlock,
    ...(account === undefined ? {} : { signer: chain.node.accounts[account]!.privateKey }),
    ...rest,
  })
}
