import type { AuthCallback } from 'isomorphic-git'
import type { OnSyncProgress } from '../../src/registry/syncProgress.js'
import type { AbortOptions, Registry, RegistryChange } from '../../src/registry/types.js'
import type { Signer } from '../../src/trust/signer.js'
import type { BackgroundVerification } from './_pendingRecords.js'
import type { SkippedRecord } from './_recordIndex.js'
import type { CommitSignatureStatus } from './commitSignature.js'

export type { BackgroundVerification } from './_pendingRecords.js'
export type { SkippedRecord } from './_recordIndex.js'

/** Who commits: written into the author and committer lines of every commit the registry makes. */
export interface GitAuthor {
  name: string
  email: string
}

/**
 * What `gitRegistry` takes. Only `dir` is required. Records are verified with the mesh's verifier and
 * trust (its components); the registry has no trust of its own.
 */
export interface GitRegistryInit {
  /** Directory of the registry's bare repository; created (with a first commit) when missing or empty. */
  dir: string
  /** An http(s) remote to clone, fetch and push. Without one the repository in `dir` is the registry. */
  url?: string
  /** @default DEFAULT_BRANCH ('main') */
  branch?: string
  /** Names the registry in results and `publish({ to })`. @default 'git' */
  id?: string
  /** How often to fetch from the remote (or re-read `dir`); 0 syncs only on demand. @default 60000 */
  syncIntervalMs?: number
  /** Author and committer of the registry's commits. @default DEFAULT_AUTHOR */
  author?: GitAuthor
  /** Signs every commit the registry makes (FMESH SIGNATURE in `gpgsig`); commits are unsigned without it. */
  signer?: Signer
  /** Extra HTTP headers for every request to the remote (e.g. `Authorization`). */
  headers?: Readonly<Record<string, string>>
  /** isomorphic-git's auth callback, for username/password or token prompts. */
  onAuth?: AuthCallback
  /** Told how each fetch from the remote (the first clone above all) goes: `start`, phases, `done`. */
  onProgress?: OnSyncProgress
  /** Deadline of each HTTP request to the remote. @default 30000 */
  requestTimeoutMs?: number
  /** Push attempts (fetch, rebuild, push) before a publish fails. @default 5 */
  maxPushAttempts?: number
  /** History fetched on the first clone; 0 fetches all of it. @default 1 */
  cloneDepth?: number
  /** New commits whose signatures a sync checks and reports. @default 100 */
  maxCommitsChecked?: number
  /** Largest accepted record file. @default 65536 */
  maxRecordBytes?: number
  /**
   * A first sync (an empty index) makes the registry ready as soon as its index of record files
   * exists, and verifies the records in the background: a record asked for (`lookup`, `list`,
   * `publish` of the same name) is verified first, so none is served or listed unverified.
   * `sync()` still returns once every record is checked; `status()` counts the pending ones. False
   * verifies every record before the registry answers. @default true
   */
  verifyInBackground?: boolean
}

/** One commit a sync brought in, with what its signature says. */
export interface CommitCheck {
  readonly oid: string
  readonly signature: CommitSignatureStatus
}

/** What one sync did. */
export interface SyncReport {
  /** The commit the index now reflects. */
  readonly commit: string
  /** The commit it reflected before, if any. */
  readonly previous?: string
  /** Names whose record was added or replaced (reported to `watch`). */
  readonly changed: readonly string[]
  /** Names whose record file was removed. */
  readonly removed: readonly string[]
  /** Record files refused: bad signature, bad schema, wrong path, seq going backwards. */
  readonly skipped: readonly SkippedRecord[]
  /** The remote's history no longer contains the previous commit (a force push). */
  readonly rewritten: boolean
  /** New commits (newest first, up to `maxCommitsChecked`) and their signatures. */
  readonly commits: readonly CommitCheck[]
  readonly durationMs: number
  /**
   * Record files indexed but not yet verified when this report was made (a first sync verifying in
   * the background); absent when none. The report is replaced by the full one when they are done.
   */
  readonly pending?: number
}

/** A snapshot of the registry's state. */
export interface GitRegistryStatus {
  readonly id: string
  readonly dir: string
  readonly url?: string
  readonly branch: string
  readonly started: boolean
  /** The commit the index reflects. */
  readonly commit?: string
  /** Names in the index, verified or pending. */
  readonly names: number
  /** Names whose record has been verified and accepted. */
  readonly verified: number
  /** Names indexed by a first sync whose record is still being verified in the background. */
  readonly pending: number
  /** The last background verification, once it finished. */
  readonly lastVerification?: BackgroundVerification
  /** When the last sync succeeded (clock ms), and what it did. */
  readonly lastSync?: { readonly at: number; readonly report: SyncReport }
  /** The last sync failure, cleared by the next successful sync. */
  readonly lastError?: { readonly at: number; readonly code: string; readonly message: string }
}

/** A `Registry` backed by a Git repository. */
export interface GitRegistry extends Registry {
  /**
   * Resolves once no record is pending verification (see {@link GitRegistryInit.verifyInBackground})
   * with what the last background verification found, or undefined if none ran.
   */
  verified(options?: AbortOptions): Promise<BackgroundVerification | undefined>
  /** Fetches (or re-reads the local repository), checks what changed and updates the index. */
  sync(options?: AbortOptions): Promise<SyncReport>
  status(): GitRegistryStatus
  /** Yields the names each sync or publish changed, until the signal aborts. */
  watch(options?: AbortOptions): AsyncIterable<RegistryChange>
  start(): Promise<void>
  stop(): Promise<void>
}
