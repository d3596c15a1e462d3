import '../../src/_polyfill.js'

export {
  DEFAULT_FOLLOW_REFRESH_MS,
  DEFAULT_FOLLOW_TIMEOUT_MS,
  DEFAULT_IPNS_LIFETIME_MS,
  DEFAULT_MAX_DIRECTORY_BYTES,
  DEFAULT_MAX_TREE_ENTRIES,
  DEFAULT_MAX_WALK_BLOCKS,
  DEFAULT_RECORD_CACHE_BYTES,
  DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES,
} from './_checkInit.js'
export { DEFAULT_IPFS_DHT_PROTOCOL, DEFAULT_IPFS_LISTEN } from './_libp2pOptions.js'
export { type IpfsRegistryConfig, IpfsRegistryConfigSchema } from './config.js'
export {
  IpfsBlockError,
  IpfsDirectoryTooLargeError,
  IpfsFollowError,
  IpfsIndexCorruptError,
  IpfsPathError,
  type IpfsPathProblem,
  IpfsRecordTooLargeError,
  IpfsStoreError,
  IpnsRecordInvalidError,
  IpnsRollbackError,
} from './errors.js'
export { ipfsRegistry } from './ipfsRegistry.js'
export type { IpfsNetworkInit, IpfsRegistry, IpfsRegistryInit, IpfsRegistryStatus } from './types.js'
