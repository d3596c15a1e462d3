/** Options every async API takes last. */
export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * Who may publish for a namespace. Sources are asked in order; the first that knows the namespace
 * answers for it (the chain registry when configured, then keys pinned in config).
 */
export interface TrustSource {
  /** Names the source in verification results (`pinned`, `chain:31337/0x...`). */
  readonly id: string
  /**
   * The key ids (`did:key:...`) allowed to publish for `namespace` now, or `undefined` if this source
   * knows nothing of it. An empty list means the namespace is known and nobody may publish.
   */
  publishersOf(
    namespace: string,
    options?: AbortOptions,
  ): readonly string[] | undefined | Promise<readonly string[] | undefined>
}

/** Trust as given to `createMesh`: pinned owners, one source, or several in order. */
export type TrustInit =
  | { owners: Readonly<Record<string, readonly string[]>> }
  | TrustSource
  | readonly TrustSource[]
