import type { z } from 'zod'
import type { RegistryFactory } from '../components.js'
import type { OnSyncProgress } from '../registry/syncProgress.js'
import type { Registry } from '../registry/types.js'
import type { Signer } from '../trust/signer.js'

/** One entry of a config file's `registries`: its kind, an optional id, and the kind's own fields. */
export interface RegistryConfig {
  readonly type: string
  readonly id?: string | undefined
  readonly [field: string]: unknown
}

/** One registry's config schema: a `z.strictObject` whose `type` is `z.literal(KIND)`. */
export type RegistryConfigSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape, z.core.$strict>

/** What a kind's `create` and `describe` know besides the registry's own config. */
export interface PresetContext {
  /** The registry's id: its config's `id`, else the kind for the first registry and `KIND-INDEX` after. */
  readonly id: string
  /** Its place in `registries`, 0 first. */
  readonly index: number
  /** Where embedded registries keep their data. */
  readonly dataDir: string
  /** What relative paths in the config are relative to: the config file's directory. */
  readonly baseDir: string
  /** Signs what the registry writes itself (a Git registry's commits). */
  readonly signer?: Signer
  /** Told how the registry's sync with its remote goes, when the kind reports it (Git does). */
  readonly onSyncProgress?: OnSyncProgress
  /** A one-shot command: the registry syncs on demand only, with no timers of its own. */
  readonly oneShot: boolean
  /**
   * A command that writes no record (`resolve`, `ls`, `call`): a registry whose local store does
   * not exist is an error (`E_REGISTRY_MISSING`), never created empty in its place. @default false
   */
  readonly readOnly?: boolean
  /** Every registry of the config by id, with its type (a chain registry names its IPFS registry). */
  readonly registryTypes?: ReadonlyMap<string, string>
  /** The factory built for another registry of the config, once all are built (undefined before). */
  readonly registryFactory?: (id: string) => RegistryFactory | undefined
}

/**
 * A registry kind's module, loaded by the preset only when a config names the kind. Its `schema`
 * imports only zod; `create` loads the implementation (isomorphic-git, Helia, ...) with `import()`.
 */
export interface RegistryKindModule<S extends RegistryConfigSchema = RegistryConfigSchema> {
  readonly schema: S
  /** A line for people: what the registry is and where its data lives (the id is printed before it). */
  describe(config: z.output<S>, context: PresetContext): string
  /** The factory `createMesh({ registries })` takes. */
  create(config: z.output<S>, context: PresetContext): Promise<RegistryFactory>
  /** What a reader elsewhere needs to follow the running registry (`fmesh node status` shows it). */
  reach?(registry: Registry): RegistryReach | undefined
}

/**
 * How a reader on another data dir or machine follows a running registry: an IPFS registry's IPNS
 * name (for its `follow`) and the libp2p addresses its node listens on (for its `network.bootstrap`).
 */
export interface RegistryReach {
  readonly ipnsName?: string
  readonly addrs?: readonly string[]
}

/** An entry of the preset's kind table: the `type` configs name it by, and its module, loaded lazily. */
export interface RegistryKind {
  readonly type: string
  readonly load: () => Promise<RegistryKindModule>
}
