import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { type DeployedRegistry, deployRegistry } from './deployRegistry.js'
import { ChainNodeError } from './errors.js'
import { REGISTRY_ARTIFACT } from './registryArtifact.js'
import { type AnvilNode, type StartAnvilOptions, startAnvil } from './startAnvil.js'

/** A local anvil with the registry contract deployed, its state kept in a directory. */
export interface LocalChain extends AnvilNode {
  /** The registry contract's address and deploy block. */
  readonly deployment: DeployedRegistry
}

export interface StartLocalChainOptions extends Pick<StartAnvilOptions, 'binary' | 'chainId' | 'signal'> {
  /** Where anvil's state (`anvil-state.json`) and the deployment (`deployment.json`) are kept. */
  dir: string
}

/**
 * Starts anvil on 127.0.0.1 over the state saved in `dir` (anvil's `--state`: loaded at start,
 * written when it stops), and deploys FunctionMeshRegistry the first time (from dev account 9, so
 * account 0's nonces stay the user's); later starts find it at the address in `deployment.json`.
 * A restarted local chain keeps its namespaces, keys and anchors. Stop it with `stop()`, which
 * makes anvil write its state.
 *
 * @example
 * ```ts
 * const local = await startLocalChain({ dir: '.fmesh/chain' })
 * const registry = chainRegistry({ rpcUrl: local.rpcUrl, address: local.deployment.address, signer: local.accounts[0]!.privateKey })
 * ```
 */
export async function startLocalChain(options: StartLocalChainOptions): Promise<LocalChain> {
  const { dir, ...rest } = options
  mkdirSync(dir, { recursive: true })
  const node = await startAnvil({ ...rest, args: ['--state', join(dir, 'anvil-state.json')] })
  const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
  try {
    const file = join(dir, 'deployment.json')
    let deployment = readDeployment(file, node.chainId)
    if (
      deployment === undefined ||
      (await provider.getCode(deployment.address)) !== REGISTRY_ARTIFACT.deployedBytecode
    ) {
      deployment = await deployRegistry(new Wallet(node.accounts[9]!.privateKey, provider), rest)
      writeFileSync(file, `${JSON.stringify({ chainId: node.chainId, ...deployment })}\n`)
    }
    return { ...node, deployment }
  } catch (err) {
    await node.stop()
    throw err
  } finally {
    provider.destroy()
  }
}

function readDeployment(file: string, chainId: number): DeployedRegistry | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as Partial<DeployedRegistry> & { chainId?: number }
    if (value.chainId !== chainId || typeof value.address !== 'string') return undefined
    return {
      address: value.address,
      blockNumber: Number(value.blockNumber ?? 0),
      transactionHash: String(value.transactionHash ?? ''),
    }
  } catch (err) {
    throw new ChainNodeError(
      'anvil',
      `left an unreadable deployment file ${file}`,
      'Move the file aside: the registry contract is then deployed again (namespaces on the old one stay in its state).',
      err,
    )
  }
}
