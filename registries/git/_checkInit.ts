import { resolve } from 'node:path'
import type { AuthCallback } from 'isomorphic-git'
import { z } from 'zod'
import { ConfigError } from '../../src/errors/registry.js'
import { checkKnownKeys } from '../../src/options.js'
import type { OnSyncProgress } from '../../src/registry/syncProgress.js'
import type { Signer } from '../../src/trust/signer.js'
import type { GitAuthor, GitRegistryInit } from './types.js'

/** @default 'main' */
export const DEFAULT_BRANCH = 'main'
/** @default 60000 */
export const DEFAULT_SYNC_INTERVAL_MS = 60_000
/** @default { name: 'function-mesh', email: 'registry@function-mesh.invalid' } */
export const DEFAULT_AUTHOR: GitAuthor = Object.freeze({
  name: 'function-mesh',
  email: 'registry@function-mesh.invalid',
})
/** @default 30000 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** @default 5 */
export const DEFAULT_MAX_PUSH_ATTEMPTS = 5

/** The checked, defaulted configuration. */
export interface GitConfig {
  id: string
  dir: string
  url: string | undefined
  branch: string
  syncIntervalMs: number
  author: GitAuthor
  signer: Signer | undefined
  headers: Record<string, string>
  onAuth: AuthCallback | undefined
  onProgress: OnSyncProgress | undefined
  requestTimeoutMs: number
  maxPushAttempts: number
  cloneDepth: number
  maxCommitsChecked: number
  maxRecordBytes: number | undefined
  verifyInBackground: boolean
}

/** Every key `gitRegistry` takes. */
const INIT_KEYS = [
  'dir',
  'url',
  'branch',
  'id',
  'syncIntervalMs',
  'author',
  'signer',
  'headers',
  'onAuth',
  'onProgress',
  'requestTimeoutMs',
  'maxPushAttempts',
  'cloneDepth',
  'maxCommitsChecked',
  'maxRecordBytes',
  'verifyInBackground',
] as const satisfies readonly (keyof GitRegistryInit)[]

const intIn = (min: number, max: number) => z.number().int('must be an integer').min(min).max(max)
const text = (max: number) => z.string().min(1, 'must not be empty').max(max)

const InitSchema = z.object({
  dir: text(4096),
  url: z
    .string()
    .max(2048)
    .refine((v) => {
      try {
        const u = new URL(v)
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
      } catch {
        return false
      }
    }, 'must be an http:// or https:// URL')
    .optional(),
  branch: z
    .string()
    .max(200)
    .regex(
      /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]+$/,
      'must be a valid branch name',
    )
    .optional(),
  id: text(128).optional(),
  syncIntervalMs: intIn(0, 86_400_000).optional(),
  author: z.strictObject({ name: text(200), email: text(320) }).optional(),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are tokens'), z.string().max(8192))
    .optional(),
  requestTimeoutMs: intIn(1, 3_600_000).optional(),
  maxPushAttempts: intIn(1, 100).optional(),
  cloneDepth: intIn(0, 1_000_000).optional(),
  maxCommitsChecked: intIn(0, 100_000).optional(),
  maxRecordBytes: intIn(1, 16 * 1024 * 1024).optional(),
  verifyInBackground: z.boolean().optional(),
})

/** Checks `gitRegistry` options; every problem is a `ConfigError` naming the option. */
export function checkInit(init: GitRegistryInit): GitConfig {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('gitRegistry', 'options must be an object with at least `dir`')
  if ('trust' in init || 'verifier' in init || 'clock' in init) {
    const key = 'trust' in init ? 'trust' : 'verifier' in init ? 'verifier' : 'clock'
    throw new ConfigError(
      `gitRegistry.${key}`,
      `a Git registry uses the mesh's ${key}: set it in createMesh, or in registryComponents() for a registry used alone`,
    )
  }
  checkKnownKeys(init, INIT_KEYS, 'gitRegistry')
  const parsed = InitSchema.safeParse(init)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`gitRegistry.${issue.path.join('.') || 'dir'}`, issue.message)
  }
  const data = parsed.data
  const signer = init.signer
  if (signer !== undefined && (typeof signer.sign !== 'function' || typeof signer.id !== 'string')) {
    throw new ConfigError('gitRegistry.signer', 'must be a Signer (see generateSigner or importSigner)')
  }
  if (init.onAuth !== undefined && typeof init.onAuth !== 'function') {
    throw new ConfigError('gitRegistry.onAuth', 'must be a function')
  }
  if (init.onProgress !== undefined && typeof init.onProgress !== 'function') {
    throw new ConfigError('gitRegistry.onProgress', 'must be a function')
  }
  return {
    id: data.id ?? 'git',
    dir: resolve(data.dir),
    url: data.url,
    branch: data.branch ?? DEFAULT_BRANCH,
    syncIntervalMs: data.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
    author: data.author ?? DEFAULT_AUTHOR,
    signer,
    headers: { ...(data.headers ?? {}) },
    onAuth: init.onAuth,
    onProgress: init.onProgress,
    requestTimeoutMs: data.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxPushAttempts: data.maxPushAttempts ?? DEFAULT_MAX_PUSH_ATTEMPTS,
    cloneDepth: data.cloneDepth ?? 1,
    maxCommitsChecked: data.maxCommitsChecked ?? 100,
    maxRecordBytes: data.maxRecordBytes,
    verifyInBackground: data.verifyInBackground ?? true,
  }
}
