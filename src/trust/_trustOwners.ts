import { NamespaceUnownedError } from '../errors/trust.js'
import type { AbortOptions, TrustSource } from './types.js'

/** The keys that may publish for a namespace, and the trust source that said so. */
export interface Owners {
  readonly owners: readonly string[]
  readonly source: string
}

/**
 * The publisher keys of a namespace from the first of `trust` (from the source at `from` on) that
 * knows it, with no promise while the sources answer synchronously (pinned trust does): every record
 * verified asks. Throws `NamespaceUnownedError` when none does.
 */
export function ownersFrom(
  trust: readonly TrustSource[],
  namespace: string,
  name: string | undefined,
  options: AbortOptions,
  from = 0,
): Owners | Promise<Owners> {
  for (let i = from; i < trust.length; i++) {
    const source = trust[i]!
    const owners = source.publishersOf(namespace, options)
    if (isThenable(owners))
      return Promise.resolve(owners).then((found) =>
        found === undefined
          ? ownersFrom(trust, namespace, name, options, i + 1)
          : { owners: found, source: source.id },
      )
    if (owners !== undefined) return { owners, source: source.id }
  }
  throw new NamespaceUnownedError(namespace, name)
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function'
}
