import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import envPaths from 'env-paths'
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser'
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

/** Largest config file read; a larger one is refused by its size before it is read. @default 1048576 (1 MiB) */
export const MAX_CONFIG_BYTES = 1024 * 1024

/** The config file in the user's config dir (`~/.config/fmesh/config.json` on Linux). */
export function userConfigFile(): string {
  return join(envPaths('fmesh', { suffix: '' }).config, 'config.json')
}

/**
 * Which config file a command uses: `--config`, else `$FMESH_CONFIG`, else `./fmesh.json`, else the
 * user's config file, else none (the embedded defaults). A named file must exist; the two looked for
 * are used only when they do.
 */
export async function findConfig(
  explicit: string | undefined,
  cwd = process.cwd(),
): Promise<string | undefined> {
  if (explicit !== undefined) return explicit
  const fromEnv = process.env.FMESH_CONFIG
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const local = join(cwd, 'fmesh.json')
  if (existsSync(local)) return local
  const user = userConfigFile()
  return existsSync(user) ? user : undefined
}

/** JSON with comments and trailing commas (as `fmesh init` writes it); errors name the line and column. */
function parseConfigText(text: string, file: string): unknown {
  const errors: ParseError[] = []
  let value: unknown
  try {
    value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false })
  } catch (err) {
    // jsonc-parser recurses per nesting level: thousands of `{` overflow the stack.
    if (err instanceof RangeError) throw new ConfigError(file, 'not JSON: nested too deeply')
    throw err
  }
  if (errors.length > 0) {
    const first = errors[0]!
    const before = text.slice(0, first.offset)
    const line = before.split('\n').length
    const column = first.offset - before.lastIndexOf('\n')
    throw new ConfigError(`${file}:${line}:${column}`, `not JSON: ${printParseErrorCode(first.error)}`)
  }
  return value
}

/**
 * Reads a JSON config file (comments allowed), or returns the embedded defaults when `file` is undefined: one Git
 * registry in `DATA_DIR/registry.git` (`$FMESH_DATA_DIR`, else `.fmesh`), no pinned owners.
 */
export async function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  if (file === undefined)
    return { dataDir: defaultDataDir(), baseDir: process.cwd(), registries: DEFAULT_REGISTRIES }
  let text: string
  try {
    const { size } = await stat(file)
    if (size > MAX_CONFIG_BYTES)
      throw new ConfigError(file, `the file is ${size} bytes, over the ${MAX_CONFIG_BYTES} byte limit`)
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new MeshError('E_CONFIG_READ', `Cannot read the config file ${file}`, {
      details: { file, reason: (err as Error).message },
      hint: 'Check the path given to --config (or $FMESH_CONFIG), or run `fmesh init` to write one.',
      cause: err,
    })
  }
  const value = parseConfigText(text, file)
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
