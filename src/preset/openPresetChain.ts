import { resolve } from 'node:path'
import { ChainNotConfiguredError } from '../../registries/chain/errors.js'
import type { ChainRegistry } from '../../registries/chain/types.js'
import type { Mesh } from '../mesh.js'
import type { LoadedConfig } from './config.js'
import { createPresetMesh } from './createPresetMesh.js'

export type { ChainRegistry, VersionMarkStatus } from '../../registries/chain/types.js'

export interface OpenPresetChainOptions {
  /** The chain registry's id (default: the config's first chain registry). */
  registry?: string | undefined
  /** A file with the 0x private key to send from, instead of the entry's `signerKeyFile`. */
  signerKeyFile?: string | undefined
}

/**
 * A one-shot mesh from `config` and its chain registry, for the namespace owner's commands: the
 * chain registry named (or the first), sending with `signerKeyFile` when given.
 * E_CHAIN_NOT_CONFIGURED when the config has no such registry.
 *
 * @example
 * ```ts
 * const { mesh, chain } = await openPresetChain(await loadConfig('fmesh.json'))
 * await chain.claim('acme.com')
 * await mesh.close()
 * ```
 */
export async function openPresetChain(
  config: LoadedConfig,
  options: OpenPresetChainOptions = {},
): Promise<{ mesh: Mesh; chain: ChainRegistry }> {
  const idOf = (i: number) => config.registries[i]!.id ?? (i === 0 ? 'chain' : `chain-${i}`)
  const index = config.registries.findIndex(
    (entry, i) => entry.type === 'chain' && (options.registry === undefined || idOf(i) === options.registry),
  )
  if (index === -1) throw new ChainNotConfiguredError(config.file ?? '(embedded defaults)', options.registry)
  const key = options.signerKeyFile
  const registries = config.registries.map((entry, i) =>
    i === index && key !== undefined ? { ...entry, signerKeyFile: resolve(key) } : entry,
  )
  const { mesh } = await createPresetMesh({ ...config, registries }, { oneShot: true })
  return { mesh, chain: mesh.registry<ChainRegistry>(idOf(index)) }
}
