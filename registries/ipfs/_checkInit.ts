import { resolve } from 'node:path'
import type { Helia } from '@helia/interface'
import { base36 } from 'multiformats/bases/base36'
import { z } from 'zod'
import { ConfigError } from '../../src/errors/registry.js'
import { checkKnownKeys } from '../../src/options.js'
import { MAX_RECORD_BYTES } from '../../src/record/codec.js'
import { ipnsKeyCid } from './_follow.js'
import { DEFAULT_IPFS_DHT_PROTOCOL, DEFAULT_IPFS_LISTEN, type NetworkConfig } from './_libp2pOptions.js'
import type { IpfsRegistryInit } from './types.js'

/** A directory larger than this (bytes of its links) becomes a HAMT shard (UnixFS's own default). @default 262144 */
export const DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES = 262_144
/** @default 172800000 (48 hours, IPNS's own default) */
export const DEFAULT_IPNS_LIFETIME_MS = 172_800_000
/** How long a lookup waits for followed publishers when its own signal allows longer. @default 5000 */
export const DEFAULT_FOLLOW_TIMEOUT_MS = 5000
/** How long a record fetched from a followed publisher is served before it is looked up again. @default 60000 */
export const DEFAULT_FOLLOW_REFRESH_MS = 60_000
/** The largest directory block a walk reads (a plain directory shards into a HAMT at 256 KiB). @default 1048576 */
export const DEFAULT_MAX_DIRECTORY_BYTES = 1 << 20
/** The most directory blocks one followed lookup walks (root, HAMT levels, sub-directories). @default 128 */
export const DEFAULT_MAX_WALK_BLOCKS = 128
/** The most files a rebuild of the index from the IPNS root reads. @default 10000000 */
export const DEFAULT_MAX_TREE_ENTRIES = 10_000_000
/** Bytes of checked record blocks kept in memory for warm lookups. @default 16777216 */
export const DEFAULT_RECORD_CACHE_BYTES = 16 << 20

/** The checked, defaulted configuration. */
export interface IpfsConfig {
  id: string
  dir: string | undefined
  helia: Helia | undefined
  ipnsKey: string
  shardSplitThresholdBytes: number
  ipnsLifetimeMs: number
  /** Networked mode; undefined runs the node offline. */
  network: NetworkConfig | undefined
  /** Followed publishers' `/ipns/<key>` names. */
  follow: readonly string[]
  followTimeoutMs: number
  followRefreshMs: number
  maxRecordBytes: number
  maxDirectoryBytes: number
  maxWalkBlocks: number
  maxTreeEntries: number
  /** How often the current root is published again (the sequence rises) so the name stays valid. */
  ipnsRepublishMs: number
  recordCacheBytes: number
}

const INIT_KEYS = [
  'dir',
  'helia',
  'id',
  'ipnsKey',
  'shardSplitThresholdBytes',
  'ipnsLifetimeMs',
  'network',
  'follow',
  'followTimeoutMs',
  'followRefreshMs',
  'maxRecordBytes',
  'maxDirectoryBytes',
  'maxWalkBlocks',
  'maxTreeEntries',
  'ipnsRepublishMs',
  'recordCacheBytes',
] as const satisfies readonly (keyof IpfsRegistryInit)[]

const text = (max: number) => z.string().min(1, 'must not be empty').max(max)

const InitSchema = z.object({
  dir: text(4096).optional(),
  id: text(128).optional(),
  ipnsKey: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a keychain key name of A-Z, a-z, 0-9, ".", "_", "-"')
    .optional(),
  shardSplitThresholdBytes: z
    .number()
    .int('must be an integer')
    .min(1)
    .max(1 << 30)
    .optional(),
  ipnsLifetimeMs: z
    .number()
    .int('must be an integer')
    .min(1000)
    .max(365 * 86_400_000)
    .optional(),
  network: z
    .strictObject({
      listen: z.array(text(1024)).optional(),
      bootstrap: z.array(text(1024)).optional(),
      libp2p: z.record(z.string(), z.unknown()).optional(),
      dhtProtocol: z
        .string()
        .regex(/^\/[\x21-\x7e]{1,200}$/, 'must be a protocol id like /fmesh/ipfs/kad/1.0.0')
        .optional(),
    })
    .optional(),
  follow: z.array(text(200)).max(100).optional(),
  followTimeoutMs: z.number().int('must be an integer').min(1).max(600_000).optional(),
  followRefreshMs: z.number().int('must be an integer').min(0).optional(),
  maxRecordBytes: z
    .number()
    .int('must be an integer')
    .min(1)
    .max(16 << 20)
    .optional(),
  maxDirectoryBytes: z
    .number()
    .int('must be an integer')
    .min(64)
    .max(64 << 20)
    .optional(),
  maxWalkBlocks: z.number().int('must be an integer').min(1).max(100_000).optional(),
  maxTreeEntries: z.number().int('must be an integer').min(1).optional(),
  ipnsRepublishMs: z.number().int('must be an integer').min(1).optional(),
  recordCacheBytes: z.number().int('must be an integer').min(0).optional(),
})

/** Checks `ipfsRegistry` options; every problem is a `ConfigError` naming the option. */
export function checkInit(init: IpfsRegistryInit): IpfsConfig {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('ipfsRegistry', 'options must be an object with `dir` or `helia`')
  checkKnownKeys(init, INIT_KEYS, 'ipfsRegistry')
  const parsed = InitSchema.safeParse(init)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`ipfsRegistry.${issue.path.join('.') || 'dir'}`, issue.message)
  }
  const data = parsed.data
  const helia = init.helia
  if (helia !== undefined && (helia === null || typeof helia !== 'object' || !('blockstore' in helia))) {
    throw new ConfigError('ipfsRegistry.helia', 'must be a Helia node (createHelia or createHeliaLight)')
  }
  if ((data.dir === undefined) === (helia === undefined)) {
    throw new ConfigError(
      'ipfsRegistry.dir',
      data.dir === undefined
        ? 'set `dir` (the registry runs its own Helia node there) or `helia` (a started node)'
        : 'set `dir` or `helia`, not both: with `helia` the node keeps its own stores',
    )
  }
  if (
    data.follow !== undefined &&
    data.follow.length > 0 &&
    data.network === undefined &&
    helia === undefined
  )
    throw new ConfigError(
      'ipfsRegistry.follow',
      'following publishers needs `network` (an offline node reaches no one)',
    )
  const follow = (data.follow ?? []).map((name, i) => {
    try {
      return `/ipns/${ipnsKeyCid(name).toString(base36)}`
    } catch {
      throw new ConfigError(
        `ipfsRegistry.follow.${i}`,
        `${JSON.stringify(name)} is not an IPNS name (/ipns/k51...)`,
      )
    }
  })
  for (const [i, addr] of [...(data.network?.listen ?? []), ...(data.network?.bootstrap ?? [])].entries())
    if (!addr.startsWith('/'))
      throw new ConfigError(`ipfsRegistry.network`, `address ${i} ${JSON.stringify(addr)} is not a multiaddr`)
  const network: NetworkConfig | undefined =
    data.network === undefined
      ? undefined
      : {
          listen: data.network.listen ?? DEFAULT_IPFS_LISTEN,
          bootstrap: data.network.bootstrap ?? [],
          libp2p: init.network?.libp2p,
          dhtProtocol: data.network.dhtProtocol ?? DEFAULT_IPFS_DHT_PROTOCOL,
        }
  if (network !== undefined && helia !== undefined)
    throw new ConfigError(
      'ipfsRegistry.network',
      'configures the node the registry makes in `dir`; with `helia`, configure that node yourself',
    )
  const id = data.id ?? 'ipfs'
  const ipnsLifetimeMs = data.ipnsLifetimeMs ?? DEFAULT_IPNS_LIFETIME_MS
  const ipnsRepublishMs = data.ipnsRepublishMs ?? Math.floor(ipnsLifetimeMs / 2)
  if (ipnsRepublishMs >= ipnsLifetimeMs)
    throw new ConfigError(
      'ipfsRegistry.ipnsRepublishMs',
      `must be below ipnsLifetimeMs (${ipnsLifetimeMs}), or the name lapses between publishes`,
    )
  return {
    id,
    dir: data.dir === undefined ? undefined : resolve(data.dir),
    helia,
    ipnsKey: data.ipnsKey ?? `function-mesh-registry-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`,
    shardSplitThresholdBytes: data.shardSplitThresholdBytes ?? DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES,
    ipnsLifetimeMs,
    ipnsRepublishMs,
    network,
    follow,
    followTimeoutMs: data.followTimeoutMs ?? DEFAULT_FOLLOW_TIMEOUT_MS,
    followRefreshMs: data.followRefreshMs ?? DEFAULT_FOLLOW_REFRESH_MS,
    maxRecordBytes: data.maxRecordBytes ?? MAX_RECORD_BYTES,
    maxDirectoryBytes: data.maxDirectoryBytes ?? DEFAULT_MAX_DIRECTORY_BYTES,
    maxWalkBlocks: data.maxWalkBlocks ?? DEFAULT_MAX_WALK_BLOCKS,
    maxTreeEntries: data.maxTreeEntries ?? DEFAULT_MAX_TREE_ENTRIES,
    recordCacheBytes: data.recordCacheBytes ?? DEFAULT_RECORD_CACHE_BYTES,
  }
}
