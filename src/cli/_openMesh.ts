import type { Mesh } from '../mesh.js'
import { type LoadedConfig, loadConfig } from '../preset/config.js'
import { createPresetMesh } from '../preset/createPresetMesh.js'
import type { Transport } from '../transport/types.js'
import type { Signer } from '../trust/signer.js'

/** A mesh opened from `--config` (or the embedded defaults) for one CLI command: registries sync on demand. */
export async function openMesh(
  configPath: string | undefined,
  options: { signer?: Signer; transports?: readonly Transport[] } = {},
): Promise<{ mesh: Mesh; config: LoadedConfig; describe: string[] }> {
  const config = await loadConfig(configPath)
  const opened = await createPresetMesh(config, {
    oneShot: true,
    ...(options.signer ? { signer: options.signer } : {}),
    ...(options.transports ? { transports: options.transports } : {}),
  })
  return { ...opened, config }
}
