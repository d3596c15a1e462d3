import { z } from 'zod'

/**
 * A registry's `id` in a config file (`registries[i].id`): what results and `publish({ to })` call it.
 * Every kind's config schema uses it, so ids follow one rule whatever the kind.
 */
export const RegistryConfigIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'an id of a-z, 0-9, ".", "_", "-"')
