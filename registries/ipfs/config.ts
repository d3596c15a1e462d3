import { z } from 'zod'
import { RegistryConfigIdSchema } from '../../src/registry/registryConfig.js'

/**
 * One IPFS registry in a config file (`{ "type": "ipfs", ... }` in `registries`): the part of
 * `IpfsRegistryInit` a JSON file can say. It imports only zod, so the embedded preset checks a config
 * without loading Helia; `ipfsRegistry` checks its options again when the registry is made.
 */
export const IpfsRegistryConfigSchema = z.strictObject({
  type: z.literal('ipfs'),
  id: RegistryConfigIdSchema.optional(),
  /** The registry's Helia stores; relative to the config file. @default DATA_DIR/ipfs */
  dir: z.string().min(1).optional(),
  ipnsKey: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'a keychain key name')
    .optional(),
  shardSplitThresholdBytes: z.number().int().min(1).optional(),
  ipnsLifetimeMs: z.number().int().min(1000).optional(),
  /** Networked mode (libp2p, bitswap, the private DHT); absent, the node is offline. */
  network: z
    .strictObject({
      listen: z.array(z.string().startsWith('/', 'a multiaddr')).optional(),
      bootstrap: z.array(z.string().startsWith('/', 'a multiaddr')).optional(),
      dhtProtocol: z.string().startsWith('/', 'a protocol id').optional(),
    })
    .optional(),
  /** Other IPFS registries' IPNS names (`/ipns/k51...`) asked for names this one does not hold. */
  follow: z.array(z.string().regex(/^(\/ipns\/)?k[0-9a-z]{20,}$/, 'an IPNS name (/ipns/k51...)')).optional(),
  followTimeoutMs: z.number().int().min(1).optional(),
  followRefreshMs: z.number().int().min(0).optional(),
  maxRecordBytes: z.number().int().min(1).optional(),
  maxDirectoryBytes: z.number().int().min(64).optional(),
  maxWalkBlocks: z.number().int().min(1).optional(),
  maxTreeEntries: z.number().int().min(1).optional(),
  ipnsRepublishMs: z.number().int().min(1).optional(),
  recordCacheBytes: z.number().int().min(0).optional(),
})

/** A checked IPFS registry config entry. */
export type IpfsRegistryConfig = z.infer<typeof IpfsRegistryConfigSchema>
