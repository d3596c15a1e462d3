import { MeshError } from '../../src/errors/base.js'

/** The local EVM node (anvil) is missing, could not be started, or did not start in time. */
export class ChainNodeError extends MeshError {
  override name = 'ChainNodeError'
  constructor(binary: string, reason: string, hint: string, cause?: unknown) {
    super('E_CHAIN_NODE', `Local EVM node ${binary} ${reason}`, { details: { binary }, hint, cause })
  }
}

/** A JSON-RPC request to the chain failed: the node is down, refused it, or answered garbage. */
export class ChainRpcError extends MeshError {
  override name = 'ChainRpcError'
  constructor(rpcUrl: string, operation: string, reason: string, cause?: unknown) {
    super('E_CHAIN_RPC', `Chain RPC ${rpcUrl} failed to ${operation}: ${reason}`, {
      details: { rpcUrl, operation },
      hint: 'Check that the JSON-RPC URL is right, the node is up and the signer account has funds.',
      cause,
    })
  }
}

/** Deploying the registry contract did not leave its code at the new address. */
export class ChainDeployError extends MeshError {
  override name = 'ChainDeployError'
  constructor(reason: string, details: Record<string, unknown>, cause?: unknown) {
    super('E_CHAIN_DEPLOY', `Deploying FunctionMeshRegistry failed: ${reason}`, {
      details,
      hint: 'Check that the signer is connected to the intended chain and has funds for gas.',
      cause,
    })
  }
}
