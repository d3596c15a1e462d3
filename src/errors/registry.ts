import { MeshError } from './base.js'

/** A registry failed to carry out an operation. */
export class RegistryError extends MeshError {
  override name = 'RegistryError'
  constructor(registry: string, operation: string, reason: string, cause?: unknown) {
    super('E_REGISTRY', `Registry ${registry} failed to ${operation}: ${reason}`, {
      details: { registry, operation },
      hint: 'Check that the registry is reachable and configured correctly.',
      cause,
    })
  }
}

/**
 * `publish` (or `mesh.registry`) named a registry the mesh does not have. The message lists the ids
 * it has, since the CLI's one-line output shows no details and a config entry without an `id` is
 * named after its index (`ipfs-1`), not after its type alone.
 */
export class RegistryUnknownError extends MeshError {
  override name = 'RegistryUnknownError'
  constructor(registry: string, known: readonly string[]) {
    super(
      'E_REGISTRY_UNKNOWN',
      known.length === 0
        ? `No registry named ${registry}: the mesh has no registries`
        : `No registry named ${registry}; the registries are ${known.join(', ')}`,
      {
        details: { registry, known },
        hint:
          known.length === 0
            ? 'Give the mesh a registry: `createMesh({ registries })`, or an entry in the config\'s "registries".'
            : 'Name one of those ids. A config entry without an "id" is named after its type at index 0 and TYPE-N at index N ([{ "type": "git" }, { "type": "ipfs" }] are git and ipfs-1); give it an "id" to choose.',
      },
    )
  }
}

/** A publish was refused because the registry already holds this name at an equal or higher seq. */
export class PublishConflictError extends MeshError {
  override name = 'PublishConflictError'
  constructor(registry: string, name: string, seq: number, storedSeq: number) {
    super(
      'E_PUBLISH_CONFLICT',
      `Registry ${registry} already holds ${name} at seq ${storedSeq} (publishing ${seq})`,
      {
        details: { registry, name, seq, storedSeq },
        hint: 'Publish with a seq above the stored one (omit seq and the mesh picks the next one).',
      },
    )
  }
}

/** Configuration given to a factory is invalid. */
export class ConfigError extends MeshError {
  override name = 'ConfigError'
  constructor(path: string, rule: string) {
    super('E_CONFIG_INVALID', `Invalid configuration at ${path || '(root)'}: ${rule}`, {
      details: { path: path || '(root)', rule },
      hint: 'Fix the option named above; see the README for the configuration reference.',
    })
  }
}

/** A read-only command found no registry where the config points: nothing is created in its place. */
export class RegistryMissingError extends MeshError {
  override name = 'RegistryMissingError'
  constructor(id: string, kind: string, dir: string, configured: boolean) {
    super('E_REGISTRY_MISSING', `No ${kind} registry at ${dir} (registry ${id})`, {
      details: { registry: id, kind, dir },
      hint: configured
        ? `Fix the registry's dir in the config, or create it: \`fmesh init\`, or publish a record to it first.`
        : 'Nothing is published here yet: run `fmesh init`, or `fmesh publish` a record, or pass --config.',
    })
  }
}

/** A publish reached some target registries but not all. `details` lists both. */
export class PublishIncompleteError extends MeshError {
  override name = 'PublishIncompleteError'
  constructor(
    name: string,
    stored: readonly string[],
    failed: readonly { registry: string; code: string }[],
    cause?: unknown,
  ) {
    super(
      'E_PUBLISH_INCOMPLETE',
      `Publishing ${name} failed on ${failed.map((f) => f.registry).join(', ')}`,
      {
        details: { name, stored, failed: failed.map((f) => `${f.registry}: ${f.code}`) },
        hint: 'Fix the failing registries and publish the same record again: registries that have it accept it as a no-op.',
        cause,
      },
    )
  }
}
