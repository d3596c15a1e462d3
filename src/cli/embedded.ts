import { memoryRegistry } from '../registry/memoryRegistry.js'
import type { Registry } from '../registry/types.js'

/** The registries the CLI and `npm start` run on when nothing is configured. */
export interface EmbeddedRegistries {
  registries: Registry[]
  /** One line per registry for people. */
  describe: string[]
  cleanup(): Promise<void>
}

/**
 * The embedded preset: the one module that wires registries from `registries/` together with the
 * core for the CLI. Today: two in-process registries (a primary and a mirror).
 */
export async function embeddedRegistries(_options: { dir?: string } = {}): Promise<EmbeddedRegistries> {
  const primary = memoryRegistry({ id: 'primary' })
  const mirror = memoryRegistry({ id: 'mirror' })
  return {
    registries: [primary, mirror],
    describe: ['primary  in-process memory registry', 'mirror   in-process memory registry'],
    cleanup: async () => {},
  }
}
