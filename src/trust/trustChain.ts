import type { AbortOptions, TrustSource } from './types.js'

/**
 * A mesh's trust sources in the order they are asked, as one source: the first that knows a
 * namespace answers for it. Registries that are trust sources (the chain registry) join at the front
 * when the mesh starts them, ahead of the sources configured in `trust`.
 */
export class TrustChain implements TrustSource {
  readonly id = 'mesh'
  /** The sources in order; the verifier reads this same array, so a source added later counts at once. */
  readonly sources: TrustSource[]
  private registryCount = 0

  constructor(configured: readonly TrustSource[]) {
    this.sources = [...configured]
  }

  /** Adds a registry's trust source after the registries' sources added before it. */
  addRegistrySource(source: TrustSource): void {
    this.sources.splice(this.registryCount++, 0, source)
  }

  async publishersOf(namespace: string, options?: AbortOptions): Promise<readonly string[] | undefined> {
    for (const source of this.sources) {
      const owners = await source.publishersOf(namespace, options)
      if (owners !== undefined) return owners
    }
    return undefined
  }
}
