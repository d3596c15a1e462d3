/**
 * Progress of a registry's sync with its remote (a Git clone or fetch), for progress bars: events
 * `start`, then any number of phases with counts as the remote and the client report them
 * (`Receiving objects` 412 of 1000, `Resolving deltas`, ...), then `done` (after success or failure).
 * A listener must not throw; it runs on the sync's own path, so it should only record or draw.
 *
 * @example
 * ```ts
 * gitRegistry({ dir, url, onProgress: (e) => console.error(e.registry, e.phase, e.loaded, e.total) })
 * ```
 */
export interface RegistrySyncProgressEvent {
  readonly type: 'mesh:registry:sync'
  /** The registry's id. */
  readonly registry: string
  /** `start`, `done`, or the phase the remote or client names (`Counting objects`, `Receiving objects`). */
  readonly phase: string
  /** Units done in this phase (objects, deltas); 0 for `start` and `done`. */
  readonly loaded: number
  /** Units in this phase when known. */
  readonly total?: number
}

/** Told of each {@link RegistrySyncProgressEvent}. */
export type OnSyncProgress = (event: RegistrySyncProgressEvent) => void
