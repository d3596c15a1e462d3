import { Contract, FetchRequest, Network, type Provider, type Signer, Wallet } from 'ethers'
import type { ChainConfig } from './_checkChainInit.js'
import { ImmediateJsonRpcProvider } from './_immediateProvider.js'
import { isRpcFailure, reasonOf, rpcUrlOf } from './_rpcFailure.js'
import { ChainContractError, ChainIdMismatchError, ChainRpcError } from './errors.js'
import { REGISTRY_ABI, REGISTRY_ARTIFACT } from './registryArtifact.js'

/** A checked link to the registry contract: the right chain, the right code. */
export interface Connection {
  readonly provider: Provider
  readonly rpcUrl: string
  readonly chainId: number
  readonly contract: Contract
  readonly signer: Signer | undefined
  /** Whether this registry made the provider (and so destroys it on stop). */
  readonly ownsProvider: boolean
}

/** Wraps an RPC failure as E_CHAIN_RPC; anything else passes through. */
export function rpcError(rpcUrl: string, operation: string, err: unknown): unknown {
  return isRpcFailure(err) ? new ChainRpcError(rpcUrl, operation, reasonOf(err), err) : err
}

/** The chain id the node at `rpcUrl` reports, read with one plain request (no ethers retry loop). */
async function chainIdAt(rpcUrl: string, timeoutMs: number): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const body = (await response.json().catch(() => undefined)) as { result?: unknown } | undefined
  const id = typeof body?.result === 'string' ? Number.parseInt(body.result, 16) : Number.NaN
  if (!Number.isSafeInteger(id)) {
    const err = new Error(`eth_chainId answered ${response.status} without a chain id`)
    ;(err as { code?: string }).code = 'BAD_DATA'
    throw err
  }
  return id
}

/** Connects, then checks the chain id and that the address holds exactly the artifact's code. */
export async function connect(cfg: ChainConfig): Promise<Connection> {
  const { init, address } = cfg
  let provider: Provider
  let rpcUrl: string
  let chainId: number
  if (init.rpcUrl !== undefined) {
    rpcUrl = init.rpcUrl
    try {
      chainId = await chainIdAt(rpcUrl, cfg.rpcTimeoutMs)
    } catch (err) {
      throw new ChainRpcError(
        rpcUrl,
        'read the chain id',
        reasonOf((err as { cause?: unknown }).cause ?? err),
        err,
      )
    }
    if (init.chainId !== undefined && init.chainId !== chainId)
      throw new ChainIdMismatchError(rpcUrl, init.chainId, chainId)
    // Each request posted at once: ethers' queue would hold it for a setTimeout(0) (>= 1 ms).
    const request = new FetchRequest(rpcUrl)
    request.timeout = cfg.rpcTimeoutMs
    provider = new ImmediateJsonRpcProvider(request, Network.from(chainId), {
      staticNetwork: true,
      // ethers caches eth_getTransactionCount for 250 ms by default: back-to-back sends reused a nonce.
      cacheTimeout: -1,
      batchMaxCount: 1,
      // A receipt not there at once is polled for; ethers' default (4 s) is longer than a block here.
      pollingInterval: 250,
    })
  } else {
    provider = init.provider!
    rpcUrl = rpcUrlOf(provider)
    try {
      chainId = Number((await provider.getNetwork()).chainId)
    } catch (err) {
      throw rpcError(rpcUrl, 'read the chain id', err)
    }
    if (init.chainId !== undefined && init.chainId !== chainId)
      throw new ChainIdMismatchError(rpcUrl, init.chainId, chainId)
  }
  const owns = init.rpcUrl !== undefined
  try {
    let code: string
    try {
      code = await provider.getCode(address)
    } catch (err) {
      throw rpcError(rpcUrl, `read the code at ${address}`, err)
    }
    if (code === '0x') throw new ChainContractError(address, chainId, 'no code')
    if (code !== REGISTRY_ARTIFACT.deployedBytecode)
      throw new ChainContractError(address, chainId, 'other code')
    const signer =
      typeof init.signer === 'string'
        ? new Wallet(init.signer, provider)
        : init.signer?.provider === null
          ? init.signer.connect(provider)
          : init.signer
    return {
      provider,
      rpcUrl,
      chainId,
      contract: new Contract(address, REGISTRY_ABI, provider),
      signer,
      ownsProvider: owns,
    }
  } catch (err) {
    if (owns) provider.destroy()
    throw err
  }
}
