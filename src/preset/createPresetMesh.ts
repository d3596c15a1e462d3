import { join } from 'node:path'
import type { ServiceFactory } from '../components.js'
import { createMesh, type Mesh } from '../mesh.js'
import { fileSeqLedger } from '../trust/fileSeqLedger.js'
import { type BuildOptions, buildRegistries } from './buildRegistries.js'
import type { LoadedConfig } from './config.js'

/**
 * A mesh from a checked config: its registries built by their kinds, its trust from `trust.owners`, its
 * seq ledger in `DATA_DIR/seq.json`, so seqs survive between commands.
 *
 * @example
 * ```ts
 * const { mesh } = await createPresetMesh(await loadConfig('fmesh.json'), { oneShot: true })
 * ```
 */
export async function createPresetMesh(
  config: LoadedConfig,
  options: BuildOptions & { services?: readonly ServiceFactory[] } = {},
): Promise<{ mesh: Mesh; describe: string[] }> {
  const built = await buildRegistries(config, options)
  const mesh = await createMesh({
    registries: built.registries,
    trust: { owners: config.trust?.owners ?? {} },
    dataDir: config.dataDir,
    seqLedger: fileSeqLedger(join(config.dataDir, 'seq.json')),
    ...(options.services === undefined ? {} : { services: options.services }),
    ...(config.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: config.lookupTimeoutMs }),
    ...(config.cache === undefined ? {} : { cache: definedOnly(config.cache) }),
  })
  return { mesh, describe: built.describe }
}

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never
}
