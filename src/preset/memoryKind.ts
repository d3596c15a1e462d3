import { z } from 'zod'
import type { RegistryFactory } from '../components.js'
import { RegistryConfigIdSchema } from '../registry/registryConfig.js'
import type { PresetContext } from './types.js'

/** `{ "type": "memory", "id"? }`: a registry in this process's memory, gone when it exits. */
export const schema = z.strictObject({ type: z.literal('memory'), id: RegistryConfigIdSchema.optional() })

type MemoryRegistryConfig = z.output<typeof schema>

export function describe(_config: MemoryRegistryConfig, _context: PresetContext): string {
  return 'in-process memory registry'
}

export async function create(
  _config: MemoryRegistryConfig,
  context: PresetContext,
): Promise<RegistryFactory> {
  const { memoryRegistry } = await import('../registry/memoryRegistry.js')
  const registry = memoryRegistry({ id: context.id })
  return () => registry
}
