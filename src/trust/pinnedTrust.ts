import { ConfigError } from '../errors/registry.js'
import { publicKeyFromKeyId } from './signer.js'
import type { TrustSource } from './types.js'

/**
 * A trust source of namespace owners pinned in configuration. Several keys per namespace allow key
 * rotation: publish with the new key, then drop the old one.
 *
 * @example
 * ```ts
 * const trust = pinnedTrust({ 'acme.com': [oldKey.id, newKey.id] })
 * ```
 */
export function pinnedTrust(owners: Readonly<Record<string, readonly string[]>>): TrustSource {
  const table = new Map<string, readonly string[]>()
  for (const [namespace, keys] of Object.entries(owners ?? {})) {
    if (!Array.isArray(keys))
      throw new ConfigError(`trust.owners["${namespace}"]`, 'must be an array of key ids')
    keys.forEach((key, i) => {
      if (typeof key !== 'string' || publicKeyFromKeyId(key) === undefined) {
        throw new ConfigError(
          `trust.owners["${namespace}"][${i}]`,
          'must be an ed25519 did:key (see `fmesh keys new`)',
        )
      }
    })
    table.set(namespace.toLowerCase(), Object.freeze([...keys]))
  }
  return {
    id: 'pinned',
    publishersOf: (namespace) => table.get(namespace),
  }
}
