import type { RegistryFactory } from '../components.js'
import type { OnSyncProgress } from '../registry/syncProgress.js'
import type { Registry } from '../registry/types.js'
import type { Signer } from '../trust/signer.js'
import { checkRegistryConfig } from './checkRegistryConfig.js'
import type { PresetConfig } from './config.js'
import type { PresetContext, RegistryConfig, RegistryKindModule, RegistryReach } from './types.js'

/** Registries built from config, with a line each for people. */
export interface EmbeddedRegistries {
  /** Factories for `createMesh({ registries })`, in the config's order. */
  registries: RegistryFactory[]
  /** Where they keep their data. */
  dataDir: string
  describe: string[]
  /** What a reader elsewhere needs to follow one of these registries once it runs (by its kind). */
  reach(registry: Registry): RegistryReach | undefined
  cleanup(): Promise<void>
}

export interface BuildOptions {
  /** Signs what registries write themselves (a Git registry's commits). */
  signer?: Signer
  /** Registries sync on demand only (one-shot commands). @default false */
  oneShot?: boolean
  /** Refuse (`E_REGISTRY_MISSING`) rather than create a registry's missing local store. @default false */
  readOnly?: boolean
  /** Told how each registry's sync with its remote goes (the CLI draws it as a progress bar). */
  onSyncProgress?: OnSyncProgress
}

/**
 * The embedded preset: the one module that wires `registries/` together with the core, for the CLI
 * and `npm start`. Each entry of `config.registries` is checked by its kind's schema and built by its
 * kind's module; a kind's implementation loads only here, when a registry of that kind is built.
 *
 * @example
 * ```ts
 * const built = await buildRegistries({ dataDir: '.fmesh', registries: [{ type: 'git' }] }, { oneShot: true })
 * const mesh = await createMesh({ registries: built.registries, trust, dataDir: built.dataDir })
 * ```
 */
export async function buildRegistries(
  config: PresetConfig,
  options: BuildOptions = {},
): Promise<EmbeddedRegistries> {
  const registries: RegistryFactory[] = []
  const describe: string[] = []
  const idOf = (entry: RegistryConfig, index: number) =>
    entry.id ?? (index === 0 ? entry.type : `${entry.type}-${index}`)
  const registryTypes = new Map(config.registries.map((entry, i) => [idOf(entry, i), entry.type]))
  const built = new Map<string, RegistryFactory>()
  const reachers = new Map<string, NonNullable<RegistryKindModule['reach']>>()
  for (const [index, entry] of config.registries.entries()) {
    const { kind, config: checked } = await checkRegistryConfig(entry, index)
    const context: PresetContext = {
      id: idOf(checked, index),
      registryTypes,
      registryFactory: (id) => built.get(id),
      index,
      dataDir: config.dataDir,
      baseDir: config.baseDir ?? process.cwd(),
      oneShot: options.oneShot ?? false,
      readOnly: options.readOnly ?? false,
      ...(options.signer === undefined ? {} : { signer: options.signer }),
      ...(options.onSyncProgress === undefined ? {} : { onSyncProgress: options.onSyncProgress }),
    }
    const factory = await kind.create(checked, context)
    built.set(context.id, factory)
    if (kind.reach !== undefined) reachers.set(context.id, kind.reach)
    registries.push(factory)
    describe.push(`${context.id.padEnd(8)} ${kind.describe(checked, context)}`)
  }
  return {
    registries,
    describe,
    dataDir: config.dataDir,
    reach: (registry) => reachers.get(registry.id)?.(registry),
    cleanup: async () => {},
  }
}
