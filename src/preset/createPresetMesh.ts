import { join } from 'node:path'
import type { ServiceFactory } from '../components.js'
import type { LedgerOptions } from '../invoke/MeshInvocation.js'
import { createMesh, type Mesh } from '../mesh.js'
import type { Transport } from '../transport/types.js'
import { fileSeqLedger } from '../trust/fileSeqLedger.js'
import { type BuildOptions, buildRegistries, type EmbeddedRegistries } from './buildRegistries.js'
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
  options: BuildOptions & {
    services?: readonly ServiceFactory[]
    transports?: readonly Transport[]
    ledger?: LedgerOptions
  } = {},
): Promise<{ mesh: Mesh; describe: string[]; reach: EmbeddedRegistries['reach'] }> {
  const { services, transports, ledger, ...build } = options
  const built = await buildRegistries(config, build)
  const mesh = await createMesh({
    registries: built.registries,
    ...(services === undefined ? {} : { services }),
    trust: { owners: config.trust?.owners ?? {} },
    dataDir: config.dataDir,
    seqLedger: fileSeqLedger(join(config.dataDir, 'seq.json')),
    ...(transports === undefined ? {} : { transports }),
    ...(ledger === undefined ? {} : { ledger }),
    ...(config.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: config.lookupTimeoutMs }),
    ...(config.cache === undefined ? {} : { cache: definedOnly(config.cache) }),
  })
  return { mesh, describe: built.describe, reach: built.reach }
}

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never
}
