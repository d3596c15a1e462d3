import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { defaultDataDir } from '../dataDir.js'
import { MeshError } from '../errors/base.js'
import { ConfigError } from '../errors/registry.js'
import { checkKnownKeys } from '../options.js'
import { configIssueError } from './_configIssue.js'
import { checkRegistryConfig } from './checkRegistryConfig.js'
import type { RegistryConfig } from './types.js'

/** A config file's fields; each `registries` entry is checked by its kind's schema. */
export const ConfigSchema = z.strictObject({
  /** Where the embedded registries keep their data; relative to the config file. @default .fmesh */
  dataDir: z.string().min(1).optional(),
  /** In priority order; each `{ "type": KIND, ... }`. @default DEFAULT_REGISTRIES */
  registries: z.array(z.unknown()).optional(),
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
  /** The peer node `fmesh node start` runs (its flags override these); see node/peerNode.ts. */
  node: z
    .strictObject({
      listen: z.array(z.string().min(1)).optional(),
      bootstrap: z.array(z.string().min(1)).optional(),
      syncIntervalMs: z.number().int().min(0).optional(),
      dht: z.boolean().optional(),
      mdns: z.boolean().optional(),
    })
    .optional(),
})

/** The registries when a config names none: one local Git registry in `DATA_DIR/registry.git`. */
export const DEFAULT_REGISTRIES: readonly RegistryConfig[] = Object.freeze([{ type: 'git', id: 'git' }])

/** What the preset builds registries from. */
export interface PresetConfig {
  dataDir: string
  /** What relative paths in registry configs are relative to. @default the working directory */
  baseDir?: string
  registries: readonly RegistryConfig[]
}

/** A checked config with `dataDir` made absolute. */
export interface LoadedConfig
  extends Omit<z.output<typeof ConfigSchema>, 'registries' | 'dataDir'>,
    PresetConfig {
  baseDir: string
  /** The file it came from, if any. */
  file?: string
}

/**
 * Checks a parsed config: unknown keys are refused naming the nearest known one, each `registries`
 * entry by its kind's schema, and every error is a `ConfigError` naming the path (`registries[1].dir`).
 */
export async function checkConfig(value: unknown, baseDir: string): Promise<LoadedConfig> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError('(root)', 'must be a JSON object')
  checkKnownKeys(value, Object.keys(ConfigSchema.shape), '')
  const parsed = ConfigSchema.safeParse(value)
  if (!parsed.success) throw configIssueError(parsed.error)
  const { registries, ...config } = parsed.data
  const checked: RegistryConfig[] = []
  for (const [index, entry] of (registries ?? DEFAULT_REGISTRIES).entries())
    checked.push((await checkRegistryConfig(entry, index)).config)
  return {
    ...config,
    baseDir,
    dataDir: config.dataDir === undefined ? resolve(baseDir, '.fmesh') : resolve(baseDir, config.dataDir),
    registries: checked,
  }
}

/**
 * Reads a JSON config file, or returns the embedded defaults when `file` is undefined: one Git
 * registry in `DATA_DIR/registry.git` (`$FMESH_DATA_DIR`, else `.fmesh`), no pinned owners.
 */
export async function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  if (file === undefined)
    return { dataDir: defaultDataDir(), baseDir: process.cwd(), registries: DEFAULT_REGISTRIES }
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
  const path = isAbsolute(file) ? file : resolve(file)
  try {
    return { ...(await checkConfig(value, dirname(path))), file: path }
  } catch (err) {
    // Name the file too: `fmesh.json: registries[1].dir`.
    if (err instanceof ConfigError)
      throw new ConfigError(`${file}: ${err.details.path}`, String(err.details.rule))
    throw err
  }
}
