import type { RegistryKind } from './types.js'

/**
 * The registry kinds the embedded preset can build, by the `type` a config names them with. Adding a
 * kind is one entry here and one module beside these (`<kind>Kind.ts`, exporting `schema`, `describe`,
 * `create` and optionally `reach`), its schema beside the registry (`registries/<kind>/config.ts`).
 * Nothing is loaded until a config names the kind, and the implementation not until a registry of it
 * is built.
 */
export const REGISTRY_KINDS: readonly RegistryKind[] = [
  { type: 'memory', load: () => import('./memoryKind.js') },
  { type: 'git', load: () => import('./gitKind.js') },
  { type: 'ipfs', load: () => import('./ipfsKind.js') },
  { type: 'chain', load: () => import('./chainKind.js') },
]
