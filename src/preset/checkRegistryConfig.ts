import { closest, distance } from 'fastest-levenshtein'
import { ConfigError } from '../errors/registry.js'
import { checkKnownKeys, checkObject } from '../options.js'
import { configIssueError, configPath } from './_configIssue.js'
import { REGISTRY_KINDS } from './registryKinds.js'
import type { RegistryConfig, RegistryKind, RegistryKindModule } from './types.js'

/** A registry config entry checked against its kind's schema, with the kind's module. */
export interface CheckedRegistryConfig {
  readonly kind: RegistryKindModule
  readonly config: RegistryConfig
}

/**
 * Checks `registries[index]` of a config: its `type` names a known kind (else the error names the
 * known ones and the nearest), then its fields pass that kind's schema. Loads the kind's module,
 * which imports only zod and the schema; the implementation loads when the registry is built.
 */
export async function checkRegistryConfig(
  value: unknown,
  index: number,
  kinds: readonly RegistryKind[] = REGISTRY_KINDS,
): Promise<CheckedRegistryConfig> {
  const at = ['registries', index] as const
  const path = configPath(at)
  checkObject(value, path, 'an object with a `type`')
  const kind = findKind((value as { type?: unknown }).type, `${path}.type`, kinds)
  const module = await kind.load()
  checkKnownKeys(value, Object.keys(module.schema.shape), path)
  const parsed = module.schema.safeParse(value)
  if (!parsed.success) throw configIssueError(parsed.error, at)
  // The schema's `type` literal makes the output a RegistryConfig; its static shape is too wide to say so.
  return { kind: module, config: parsed.data as RegistryConfig }
}

function findKind(type: unknown, path: string, kinds: readonly RegistryKind[]): RegistryKind {
  const known = kinds.map((k) => k.type)
  const list = `known types: ${known.join(', ')}`
  if (typeof type !== 'string')
    throw new ConfigError(path, `${type === undefined ? 'missing' : 'must be a string'}; ${list}`)
  const kind = kinds.find((k) => k.type === type)
  if (kind !== undefined) return kind
  const near = known.length === 0 ? undefined : closest(type, known)
  const hint =
    near !== undefined && distance(type, near) <= Math.max(2, Math.floor(near.length / 3))
      ? `; did you mean \`${near}\`? (${list})`
      : `; ${list}`
  throw new ConfigError(path, `unknown registry type \`${type}\`${hint}`)
}
