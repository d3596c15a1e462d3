import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type IpfsRegistryConfig, IpfsRegistryConfigSchema } from '../../registries/ipfs/config.js'
import type { IpfsNetworkInit, IpfsRegistry } from '../../registries/ipfs/types.js'
import type { RegistryFactory } from '../components.js'
import { RegistryMissingError } from '../errors/registry.js'
import type { Registry } from '../registry/types.js'
import type { PresetContext, RegistryReach } from './types.js'

/** `{ "type": "ipfs", ... }`: an IPFS registry on its own local Helia node; the schema imports only zod. */
export const schema = IpfsRegistryConfigSchema

/** The node's stores: `dir` relative to the config file, else `DATA_DIR/ipfs` (`ipfs-N` after the first). */
function nodeDir(config: IpfsRegistryConfig, context: PresetContext): string {
  if (config.dir !== undefined) return resolve(context.baseDir, config.dir)
  return join(context.dataDir, context.index === 0 ? 'ipfs' : `ipfs-${context.index}`)
}

export function describe(config: IpfsRegistryConfig, context: PresetContext): string {
  const mode =
    config.network === undefined
      ? 'offline'
      : `networked${config.follow?.length ? `, following ${config.follow.length} publisher(s)` : ''}`
  return `ipfs registry in ${nodeDir(config, context)} (local Helia node, ${mode})`
}

export async function create(config: IpfsRegistryConfig, context: PresetContext): Promise<RegistryFactory> {
  // Helia loads here, when an IPFS registry is built, never when a config is only checked.
  const dir = nodeDir(config, context)
  // A follower's store holds what it fetched from the publishers it follows, so a read may start it
  // empty; a registry that follows no one and has no store is a misspelt dir.
  const follows = config.network !== undefined && (config.follow?.length ?? 0) > 0
  if (context.readOnly === true && !follows && !existsSync(dir))
    throw new RegistryMissingError(context.id, 'IPFS', dir, config.dir !== undefined)
  const { ipfsRegistry } = await import('../../registries/ipfs/index.js')
  return ipfsRegistry({
    id: context.id,
    dir,
    ...(config.ipnsKey === undefined ? {} : { ipnsKey: config.ipnsKey }),
    ...(config.shardSplitThresholdBytes === undefined
      ? {}
      : { shardSplitThresholdBytes: config.shardSplitThresholdBytes }),
    ...(config.ipnsLifetimeMs === undefined ? {} : { ipnsLifetimeMs: config.ipnsLifetimeMs }),
    // Zod leaves absent keys undefined; `ipfsRegistry` takes them as absent.
    ...(config.network === undefined ? {} : { network: config.network as IpfsNetworkInit }),
    ...(config.follow === undefined ? {} : { follow: config.follow }),
    ...(config.followTimeoutMs === undefined ? {} : { followTimeoutMs: config.followTimeoutMs }),
    ...(config.followRefreshMs === undefined ? {} : { followRefreshMs: config.followRefreshMs }),
    ...(config.maxRecordBytes === undefined ? {} : { maxRecordBytes: config.maxRecordBytes }),
    ...(config.maxDirectoryBytes === undefined ? {} : { maxDirectoryBytes: config.maxDirectoryBytes }),
    ...(config.maxWalkBlocks === undefined ? {} : { maxWalkBlocks: config.maxWalkBlocks }),
    ...(config.maxTreeEntries === undefined ? {} : { maxTreeEntries: config.maxTreeEntries }),
    ...(config.ipnsRepublishMs === undefined ? {} : { ipnsRepublishMs: config.ipnsRepublishMs }),
    ...(config.recordCacheBytes === undefined ? {} : { recordCacheBytes: config.recordCacheBytes }),
  })
}

/** The registry's IPNS name and its node's listen addresses (none offline), once it has started. */
export function reach(registry: Registry): RegistryReach | undefined {
  const { ipnsName, addrs } = (registry as IpfsRegistry).status()
  return ipnsName === undefined ? undefined : { ipnsName, addrs }
}
