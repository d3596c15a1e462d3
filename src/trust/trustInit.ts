import { ConfigError } from '../errors/registry.js'
import { pinnedTrust } from './pinnedTrust.js'
import type { TrustInit, TrustSource } from './types.js'

/**
 * `trust` as `createMesh` takes it (pinned owners, one source, or several in order) as a list of
 * sources; a `ConfigError` naming the field otherwise.
 */
export function trustSources(trust: TrustInit | undefined): TrustSource[] {
  if (trust === undefined) return []
  if (trust === null || typeof trust !== 'object') {
    throw new ConfigError('trust', 'must be { owners: { namespace: [keyId] } } or trust sources')
  }
  if (Array.isArray(trust)) {
    const sources = [...(trust as readonly TrustSource[])]
    sources.forEach((source, i) => {
      // A non-object has no publishersOf either: the typeof test only says why (an equivalent mutant).
      if (source === null || typeof source !== 'object' || typeof source.publishersOf !== 'function') {
        throw new ConfigError(`trust[${i}]`, 'is not a trust source (no publishersOf method)')
      }
    })
    return sources
  }
  if ('owners' in trust) {
    if (trust.owners === null || typeof trust.owners !== 'object')
      throw new ConfigError('trust.owners', 'must be an object')
    return [pinnedTrust(trust.owners)]
  }
  if (typeof (trust as TrustSource).publishersOf === 'function') return [trust as TrustSource]
  throw new ConfigError('trust', 'must be { owners: { namespace: [keyId] } } or trust sources')
}
