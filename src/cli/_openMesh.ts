import { join } from 'node:path'
import { createMesh, type Mesh } from '../mesh.js'
import { fileSeqLedger } from '../trust/fileSeqLedger.js'
import type { Signer } from '../trust/signer.js'
import { type LoadedConfig, loadConfig } from './config.js'
import { buildRegistries } from './embedded.js'

/** A mesh opened from `--config` (or the embedded defaults) for one CLI command. */
export async function openMesh(
  configPath: string | undefined,
  options: { signer?: Signer } = {},
): Promise<{ mesh: Mesh; config: LoadedConfig; describe: string[] }> {
  const config = await loadConfig(configPath)
  const trust = { owners: config.trust?.owners ?? {} }
  const built = await buildRegistries(config, {
    oneShot: true,
    trust,
    ...(options.signer ? { signer: options.signer } : {}),
  })
  const mesh = await createMesh({
    registries: built.registries,
    trust,
    dataDir: config.dataDir,
    seqLedger: fileSeqLedger(join(config.dataDir, 'seq.json')),
    ...(config.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: config.lookupTimeoutMs }),
    ...(config.cache === undefined ? {} : { cache: definedOnly(config.cache) }),
  })
  return { mesh, config, describe: built.describe }
}

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never
}
