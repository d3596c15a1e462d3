import { resolve } from 'node:path'
import type { Helia } from '@helia/interface'
import { z } from 'zod'
import { ConfigError } from '../../src/errors/registry.js'
import { checkKnownKeys } from '../../src/options.js'
import type { IpfsRegistryInit } from './types.js'

/** A directory larger than this (bytes of its links) becomes a HAMT shard (UnixFS's own default). @default 262144 */
export const DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES = 262_144
/** @default 172800000 (48 hours, IPNS's own default) */
export const DEFAULT_IPNS_LIFETIME_MS = 172_800_000

/** The checked, defaulted configuration. */
export interface IpfsConfig {
  id: string
  dir: string | undefined
  helia: Helia | undefined
  ipnsKey: string
  shardSplitThresholdBytes: number
  ipnsLifetimeMs: number
}

const INIT_KEYS = [
  'dir',
  'helia',
  'id',
  'ipnsKey',
  'shardSplitThresholdBytes',
  'ipnsLifetimeMs',
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
  const id = data.id ?? 'ipfs'
  return {
    id,
    dir: data.dir === undefined ? undefined : resolve(data.dir),
    helia,
    ipnsKey: data.ipnsKey ?? `function-mesh-registry-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`,
    shardSplitThresholdBytes: data.shardSplitThresholdBytes ?? DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES,
    ipnsLifetimeMs: data.ipnsLifetimeMs ?? DEFAULT_IPNS_LIFETIME_MS,
  }
}
