import { z } from 'zod'
import { RegistryConfigIdSchema } from '../../src/registry/registryConfig.js'

/**
 * One chain registry in a config file (`{ "type": "chain", ... }` in `registries`): the part of
 * `ChainRegistryInit` a JSON file can say. Without `rpcUrl` the preset starts a local anvil on
 * 127.0.0.1 with the registry contract deployed, its state kept in the data dir. It imports only zod,
 * so the embedded preset checks a config without loading ethers.
 */
export const ChainRegistryConfigSchema = z
  .strictObject({
    type: z.literal('chain'),
    id: RegistryConfigIdSchema.optional(),
    /** A JSON-RPC URL; without it, a local anvil in `DATA_DIR/chain` (`chain-N` after the first). */
    rpcUrl: z
      .string()
      .regex(/^(https?|wss?):\/\//, 'an http(s):// or ws(s):// URL')
      .optional(),
    /** The FunctionMeshRegistry's address; required with `rpcUrl`, chosen by the preset without. */
    address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address')
      .optional(),
    chainId: z.number().int().min(1).optional(),
    /** A file holding the 0x private key transactions are sent with; relative to the config file. Default with no `rpcUrl`: anvil's first dev account. */
    signerKeyFile: z.string().min(1).optional(),
    confirmations: z.number().int().min(0).optional(),
    fromBlock: z.number().int().min(0).optional(),
    autoClaim: z.boolean().optional(),
    trustMaxAgeMs: z.number().int().min(0).optional(),
    pollIntervalMs: z.number().int().min(1).optional(),
    rpcTimeoutMs: z.number().int().min(1).optional(),
    /** The id of an IPFS registry in this config whose blocks CID pointers lead to. */
    ipfs: RegistryConfigIdSchema.optional(),
    pointer: z.enum(['inline', 'cid', 'auto']).optional(),
  })
  .superRefine((config, ctx) => {
    if (config.rpcUrl !== undefined && config.address === undefined)
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'required with `rpcUrl`' })
    if (config.rpcUrl === undefined && config.address !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: 'only with `rpcUrl` (the local chain deploys its own)',
      })
    if (config.pointer === 'cid' && config.ipfs === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['pointer'],
        message: "'cid' needs `ipfs` (an IPFS registry's id)",
      })
  })

/** A checked chain registry config entry. */
export type ChainRegistryConfig = z.infer<typeof ChainRegistryConfigSchema>
