import { z } from 'zod'
import { RegistryConfigIdSchema } from '../../src/registry/registryConfig.js'

/**
 * One Git registry in a config file (`{ "type": "git", ... }` in `registries`): the part of
 * `GitRegistryInit` a JSON file can say. It imports only zod, so the embedded preset checks a config
 * without loading isomorphic-git; `gitRegistry` checks its options again when the registry is made.
 */
export const GitRegistryConfigSchema = z.strictObject({
  type: z.literal('git'),
  id: RegistryConfigIdSchema.optional(),
  /** The bare repository; relative to the config file. @default DATA_DIR/registry.git */
  dir: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
  branch: z.string().min(1).max(255).optional(),
  syncIntervalMs: z.number().int().min(0).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  cloneDepth: z.number().int().min(0).optional(),
})

/** A checked Git registry config entry. */
export type GitRegistryConfig = z.infer<typeof GitRegistryConfigSchema>
