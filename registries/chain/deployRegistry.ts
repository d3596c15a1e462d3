import { ContractFactory, type Signer } from 'ethers'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import { isRpcFailure, reasonOf, rpcUrlOf } from './_rpcFailure.js'
import { ChainDeployError, ChainRpcError } from './errors.js'
import { REGISTRY_ARTIFACT } from './registryArtifact.js'

/** Where a registry contract was deployed. */
export interface DeployedRegistry {
  readonly address: string
  /** The block of the deployment: where an event watch starts. */
  readonly blockNumber: number
  readonly transactionHash: string
}

/**
 * Deploys the committed FunctionMeshRegistry artifact from `signer` and waits for its receipt.
 *
 * @example
 * ```ts
 * const node = await startAnvil()
 * const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
 * const { address } = await deployRegistry(new Wallet(node.accounts[0]!.privateKey, provider))
 * ```
 */
export async function deployRegistry(
  signer: Signer,
  options: { signal?: AbortSignal } = {},
): Promise<DeployedRegistry> {
  throwIfAborted(options.signal, 'deploying the registry')
  const provider = signer.provider
  if (provider === null) throw new ChainDeployError('the signer is not connected to a provider', {})
  const factory = new ContractFactory(REGISTRY_ARTIFACT.abi, REGISTRY_ARTIFACT.bytecode, signer)
  const deploy = async (): Promise<DeployedRegistry> => {
    let transactionHash: string | undefined
    try {
      const contract = await factory.deploy()
      const tx = contract.deploymentTransaction()!
      transactionHash = tx.hash
      const receipt = await tx.wait()
      const address = await contract.getAddress()
      if (receipt === null || receipt.status !== 1) throw new Error('the deployment transaction reverted')
      const code = await provider.getCode(address, receipt.blockNumber)
      if (code !== REGISTRY_ARTIFACT.deployedBytecode)
        throw new Error(`the code at ${address} is not the artifact's`)
      return { address, blockNumber: receipt.blockNumber, transactionHash }
    } catch (err) {
      if (isRpcFailure(err))
        throw new ChainRpcError(rpcUrlOf(provider), 'deploy the registry', reasonOf(err), err)
      throw new ChainDeployError(reasonOf(err), { transactionHash }, err)
    }
  }
  return raceSignal(deploy(), options.signal, 'deploying the registry')
}
