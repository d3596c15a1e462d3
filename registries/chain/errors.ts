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

/** The node answers for another chain than the one configured. */
export class ChainIdMismatchError extends MeshError {
  override name = 'ChainIdMismatchError'
  constructor(rpcUrl: string, expected: number, actual: number) {
    super(
      'E_CHAIN_ID_MISMATCH',
      `Chain RPC ${rpcUrl} serves chain ${actual}, not the configured ${expected}`,
      {
        details: { rpcUrl, expected, actual },
        hint: 'Point `rpcUrl` at a node of the configured chain, or fix `chainId`.',
      },
    )
  }
}

/** The configured address holds no code, or code that is not FunctionMeshRegistry. */
export class ChainContractError extends MeshError {
  override name = 'ChainContractError'
  constructor(address: string, chainId: number, reason: 'no code' | 'other code') {
    super(
      'E_CHAIN_CONTRACT',
      reason === 'no code'
        ? `No contract at ${address} on chain ${chainId}`
        : `The contract at ${address} on chain ${chainId} is not FunctionMeshRegistry`,
      {
        details: { address, chainId, reason },
        hint:
          reason === 'no code'
            ? 'Check `address` and the chain: deploy the registry with deployRegistry() and use the address it returns.'
            : "Check `address`: its deployed bytecode differs from the committed artifact's (another contract, or another build).",
      },
    )
  }
}

/** A contract call reverted with one of FunctionMeshRegistry's custom errors. */
export class ChainRevertError extends MeshError {
  override name = 'ChainRevertError'
  readonly errorName: string
  readonly args: readonly string[]
  constructor(operation: string, errorName: string, args: readonly string[], cause?: unknown) {
    super(
      'E_CHAIN_REVERT',
      `FunctionMeshRegistry refused to ${operation}: ${errorName}(${args.join(', ')})`,
      {
        details: { operation, error: errorName, args },
        hint: 'The contract error names the rule broken; see registries/chain/contracts/FunctionMeshRegistry.sol.',
        cause,
      },
    )
    this.errorName = errorName
    this.args = args
  }
}

/** A namespace change was sent by an account that does not own the namespace. */
export class NotNamespaceOwnerError extends MeshError {
  override name = 'NotNamespaceOwnerError'
  constructor(namespace: string, account: string, owner: string | undefined, cause?: unknown) {
    super(
      'E_CHAIN_NOT_OWNER',
      owner === undefined
        ? `Namespace ${namespace} is not claimed on chain (account ${account})`
        : `Account ${account} does not own namespace ${namespace} on chain (owner ${owner})`,
      {
        details: { namespace, account, ...(owner === undefined ? {} : { owner }) },
        hint:
          owner === undefined
            ? 'Claim the namespace first (`registry.claim(namespace)`), or leave `autoClaim` on.'
            : "Send the change from the owner's account (`signer`), or have the owner transfer the namespace.",
        cause,
      },
    )
  }
}

/** The bytes a chain pointer leads to do not hash to the anchored record digest. */
export class ChainDigestMismatchError extends MeshError {
  override name = 'ChainDigestMismatchError'
  constructor(name: string, anchored: string, actual: string) {
    super(
      'E_CHAIN_DIGEST_MISMATCH',
      `The record bytes for ${name} do not match the digest anchored on chain`,
      {
        details: { name, anchored, actual },
        hint: 'The pointer leads to other bytes than the ones anchored; republish the record.',
      },
    )
  }
}

/** The anchor points at a CID this registry cannot fetch: no content store, not held there, or not a CID. */
export class ChainPointerUnavailableError extends MeshError {
  override name = 'ChainPointerUnavailableError'
  constructor(name: string, cid: string, reason: string, cause?: unknown) {
    super(
      'E_CHAIN_POINTER_UNAVAILABLE',
      `The anchor of ${name} points at ${cid}, which this registry cannot fetch: ${reason}`,
      {
        details: { name, cid, reason },
        hint: 'Give the chain registry a `contentStore` (the ipfsRegistry that holds the record), and check that the IPFS node has the block (publish the record there again).',
        cause,
      },
    )
  }
}

/** The canonical record is too large to anchor inline, and no content store takes a CID pointer. */
export class ChainRecordTooLargeError extends MeshError {
  override name = 'ChainRecordTooLargeError'
  constructor(name: string, size: number, max: number) {
    super(
      'E_CHAIN_INLINE_TOO_LARGE',
      `Record ${name} is ${size} bytes, over the ${max} bytes a chain anchor holds inline`,
      {
        details: { name, size, max },
        hint: "Give the chain registry a `contentStore` (an ipfsRegistry) with `pointer` 'auto' or 'cid': the anchor then holds the record's CID. Or shrink the record.",
      },
    )
  }
}

/** A write was asked of a chain registry configured without a signer. */
export class ChainNoSignerError extends MeshError {
  override name = 'ChainNoSignerError'
  constructor(registry: string, operation: string) {
    super('E_CHAIN_NO_SIGNER', `Chain registry ${registry} has no signer to ${operation}`, {
      details: { registry, operation },
      hint: "Pass `signer` (an ethers Signer or a private key) of the namespace owner's account.",
    })
  }
}

/** The chain event follower's cursor file cannot be read, parsed or written. */
export class ChainCursorError extends MeshError {
  override name = 'ChainCursorError'
  constructor(path: string, reason: string, cause?: unknown) {
    super('E_CHAIN_CURSOR', `The chain event cursor ${path} ${reason}`, {
      details: { path },
      hint: 'Check the file and its directory (the registry data dir, or `cursor`). Moving a corrupt file aside is safe: the registry then reads every event again from `fromBlock`.',
      cause,
    })
  }
}

/** A chain command found no chain registry in the config (or not the one asked for). */
export class ChainNotConfiguredError extends MeshError {
  override name = 'ChainNotConfiguredError'
  constructor(config: string, registry: string | undefined) {
    super(
      'E_CHAIN_NOT_CONFIGURED',
      registry === undefined
        ? `The config ${config} has no chain registry`
        : `The config ${config} has no chain registry \`${registry}\``,
      {
        details: { config, ...(registry === undefined ? {} : { registry }) },
        hint:
          registry === undefined
            ? config === '(embedded defaults)'
              ? 'No config file was found: run `fmesh init`, then add `{ "type": "chain" }` (a local anvil in the data dir) to "registries" in the fmesh.json it writes.'
              : `Add \`{ "type": "chain" }\` (a local anvil in the data dir) or \`{ "type": "chain", "rpcUrl": "https://...", "address": "0x..." }\` to "registries" in ${config}.`
            : `Pass the id of a chain registry in ${config} with --registry, or leave --registry out for its first one.`,
      },
    )
  }
}
