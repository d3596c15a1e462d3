import '../../src/_polyfill.js'

export { DEFAULT_IPNS_LIFETIME_MS, DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES } from './_checkInit.js'
export { type IpfsRegistryConfig, IpfsRegistryConfigSchema } from './config.js'
export { IpfsBlockError, IpfsIndexCorruptError, IpfsStoreError, IpnsRollbackError } from './errors.js'
export { ipfsRegistry } from './ipfsRegistry.js'
export type { IpfsRegistry, IpfsRegistryInit, IpfsRegistryStatus } from './types.js'
