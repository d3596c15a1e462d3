import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { MeshError } from '../errors/base.js'
import { ConfigError } from '../errors/registry.js'

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'an id of a-z, 0-9, ".", "_", "-"')

const RegistryConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory'), id: id.optional() }),
  z.strictObject({
    type: z.literal('git'),
    id: id.optional(),
    /** Local bare repository; relative to the config file. @default DATA_DIR/registry.git */
    dir: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/, message: 'an http(s) URL' }).optional(),
    branch: z.string().min(1).max(255).optional(),
    syncIntervalMs: z.number().int().min(0).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    cloneDepth: z.number().int().min(0).optional(),
  }),
])

export const ConfigSchema = z.strictObject({
  /** Where the embedded registries keep their data; relative to the config file. @default .fmesh */
  dataDir: z.string().min(1).optional(),
  registries: z.array(RegistryConfigSchema).optional(),
  trust: z.strictObject({ owners: z.record(z.string(), z.array(z.string())) }).optional(),
  lookupTimeoutMs: z.number().int().positive().optional(),
  cache: z
    .strictObject({
      max: z.number().int().positive().optional(),
      maxTtlSeconds: z.number().int().min(0).optional(),
      negativeTtlSeconds: z.number().int().min(0).optional(),
      staleIfErrorSeconds: z.number().int().min(0).optional(),
    })
    .optional(),
})

export type MeshConfig = z.infer<typeof ConfigSchema>
export type RegistryConfig = z.infer<typeof RegistryConfigSchema>

/** A loaded config with every path made absolute. */
export interface LoadedConfig extends MeshConfig {
  dataDir: string
  registries: RegistryConfig[]
  /** The file it came from, if any. */
  file?: string
}

/** Data directory when nothing says otherwise: `$FMESH_DATA_DIR`, else `.fmesh` in the working directory. */
export function defaultDataDir(): string {
  return resolve(process.env.FMESH_DATA_DIR ?? '.fmesh')
}

/**
 * Reads a JSON config file (or returns the embedded defaults when `file` is undefined): one Git
 * registry in `DATA_DIR/registry.git`, no pinned owners.
 */
export async function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  if (file === undefined) return { dataDir: defaultDataDir(), registries: [{ type: 'git', id: 'git' }] }
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new MeshError('E_CONFIG_READ', `Cannot read the config file ${file}`, {
      details: { file, reason: (err as Error).message },
      hint: 'Check the path given to --config.',
      cause: err,
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(file, `not JSON: ${(err as Error).message}`)
  }
  const parsed = ConfigSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`${file}: ${issue.path.join('.')}`, issue.message)
  }
  const base = dirname(resolve(file))
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p))
  const config = parsed.data
  return {
    ...config,
    file: resolve(file),
    dataDir: abs(config.dataDir ?? '.fmesh'),
    registries: (config.registries ?? [{ type: 'git', id: 'git' }]).map((r) =>
      r.type === 'git' && r.dir !== undefined ? { ...r, dir: abs(r.dir) } : r,
    ),
  }
}
