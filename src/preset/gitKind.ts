import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type GitRegistryConfig, GitRegistryConfigSchema } from '../../registries/git/config.js'
import type { RegistryFactory } from '../components.js'
import { RegistryMissingError } from '../errors/registry.js'
import type { PresetContext } from './types.js'

/** `{ "type": "git", ... }`: a Git registry; the schema lives beside the registry and imports only zod. */
export const schema = GitRegistryConfigSchema

/** The bare repository: `dir` relative to the config file, else `DATA_DIR/registry.git` (`registry-N.git` after the first). */
function repositoryDir(config: GitRegistryConfig, context: PresetContext): string {
  if (config.dir !== undefined) return resolve(context.baseDir, config.dir)
  return join(context.dataDir, context.index === 0 ? 'registry.git' : `registry-${context.index}.git`)
}

export function describe(config: GitRegistryConfig, context: PresetContext): string {
  return `git registry in ${repositoryDir(config, context)}${config.url ? `, remote ${config.url}` : ' (local only)'}`
}

export async function create(config: GitRegistryConfig, context: PresetContext): Promise<RegistryFactory> {
  // isomorphic-git loads here, when a Git registry is built, never when a config is only checked.
  const { gitRegistry } = await import('../../registries/git/index.js')
  const syncIntervalMs = context.oneShot ? 0 : config.syncIntervalMs
  const dir = repositoryDir(config, context)
  // With a remote the first sync clones into the dir; without one, a read must not make an empty repository.
  if (context.readOnly === true && config.url === undefined && !existsSync(dir))
    throw new RegistryMissingError(context.id, 'Git', dir, config.dir !== undefined)
  return gitRegistry({
    id: context.id,
    dir,
    ...(config.url === undefined ? {} : { url: config.url }),
    ...(config.branch === undefined ? {} : { branch: config.branch }),
    ...(config.headers === undefined ? {} : { headers: config.headers }),
    ...(config.cloneDepth === undefined ? {} : { cloneDepth: config.cloneDepth }),
    ...(syncIntervalMs === undefined ? {} : { syncIntervalMs }),
    ...(context.signer === undefined ? {} : { signer: context.signer }),
    ...(context.onSyncProgress === undefined ? {} : { onProgress: context.onSyncProgress }),
  })
}
