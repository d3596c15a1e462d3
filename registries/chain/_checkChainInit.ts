import { isAddress } from 'ethers'
import { ConfigError } from '../../src/errors/registry.js'
import { checkKnownKeys, checkObject } from '../../src/options.js'
import {
  DEFAULT_CHAIN_CONFIRMATIONS,
  DEFAULT_CHAIN_POLL_INTERVAL_MS,
  DEFAULT_CHAIN_RPC_TIMEOUT_MS,
  DEFAULT_CHAIN_TRUST_MAX_AGE_MS,
} from './defaults.js'
import type { ChainRegistryInit } from './types.js'

const KNOWN = [
  'rpcUrl',
  'provider',
  'address',
  'signer',
  'chainId',
  'confirmations',
  'fromBlock',
  'autoClaim',
  'trustMaxAgeMs',
  'pollIntervalMs',
  'rpcTimeoutMs',
  'id',
  'cursor',
  'contentStore',
  'pointer',
]

export interface ChainConfig {
  readonly init: ChainRegistryInit
  readonly id: string
  readonly address: string
  readonly confirmations: number
  readonly fromBlock: number
  readonly autoClaim: boolean
  readonly trustMaxAgeMs: number
  readonly pollIntervalMs: number
  readonly rpcTimeoutMs: number
  readonly pointer: 'inline' | 'cid' | 'auto'
}

const whole = (value: unknown, path: string, min: number) => {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < min))
    throw new ConfigError(path, `must be an integer >= ${min}`)
}

export function checkChainInit(init: ChainRegistryInit): ChainConfig {
  checkObject(init, 'chainRegistry', 'an options object')
  checkKnownKeys(init, KNOWN, 'chainRegistry')
  if ((init.rpcUrl === undefined) === (init.provider === undefined))
    throw new ConfigError('chainRegistry', 'give exactly one of `rpcUrl` and `provider`')
  if (
    init.rpcUrl !== undefined &&
    (typeof init.rpcUrl !== 'string' || !/^(https?|wss?):\/\//.test(init.rpcUrl))
  )
    throw new ConfigError('chainRegistry.rpcUrl', 'must be an http(s):// or ws(s):// URL')
  if (typeof init.address !== 'string' || !isAddress(init.address))
    throw new ConfigError('chainRegistry.address', 'must be a 0x-prefixed 20-byte address')
  if (
    init.signer !== undefined &&
    typeof init.signer === 'string' &&
    !/^0x[0-9a-fA-F]{64}$/.test(init.signer)
  )
    throw new ConfigError(
      'chainRegistry.signer',
      'must be an ethers Signer or a 0x-prefixed 32-byte private key',
    )
  whole(init.chainId, 'chainRegistry.chainId', 1)
  whole(init.confirmations, 'chainRegistry.confirmations', 0)
  whole(init.fromBlock, 'chainRegistry.fromBlock', 0)
  whole(init.trustMaxAgeMs, 'chainRegistry.trustMaxAgeMs', 0)
  whole(init.pollIntervalMs, 'chainRegistry.pollIntervalMs', 1)
  whole(init.rpcTimeoutMs, 'chainRegistry.rpcTimeoutMs', 1)
  if (init.autoClaim !== undefined && typeof init.autoClaim !== 'boolean')
    throw new ConfigError('chainRegistry.autoClaim', 'must be a boolean')
  if (
    init.cursor !== undefined &&
    init.cursor !== false &&
    (typeof init.cursor !== 'string' || init.cursor === '')
  )
    throw new ConfigError('chainRegistry.cursor', 'must be a file path, or false to keep no cursor')
  const store = init.contentStore as { put?: unknown; get?: unknown } | undefined
  if (
    store !== undefined &&
    typeof store !== 'function' &&
    (store === null || typeof store.put !== 'function' || typeof store.get !== 'function')
  )
    throw new ConfigError(
      'chainRegistry.contentStore',
      'must be a content store ({ put, get }) or an ipfsRegistry(...) factory',
    )
  if (init.pointer !== undefined && !['inline', 'cid', 'auto'].includes(init.pointer))
    throw new ConfigError('chainRegistry.pointer', "must be 'inline', 'cid' or 'auto'")
  if (init.pointer === 'cid' && store === undefined)
    throw new ConfigError('chainRegistry.pointer', "'cid' needs `contentStore` (an ipfsRegistry factory)")
  if (init.id !== undefined && (typeof init.id !== 'string' || init.id === ''))
    throw new ConfigError('chainRegistry.id', 'must be a non-empty string')
  return {
    init,
    id: init.id ?? 'chain',
    address: init.address,
    confirmations: init.confirmations ?? DEFAULT_CHAIN_CONFIRMATIONS,
    fromBlock: init.fromBlock ?? 0,
    autoClaim: init.autoClaim ?? true,
    trustMaxAgeMs: init.trustMaxAgeMs ?? DEFAULT_CHAIN_TRUST_MAX_AGE_MS,
    pollIntervalMs: init.pollIntervalMs ?? DEFAULT_CHAIN_POLL_INTERVAL_MS,
    rpcTimeoutMs: init.rpcTimeoutMs ?? DEFAULT_CHAIN_RPC_TIMEOUT_MS,
    pointer: init.pointer ?? 'auto',
  }
}
