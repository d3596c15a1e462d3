import '../../src/_polyfill.js'

export {
  DEFAULT_AUTHOR,
  DEFAULT_BRANCH,
  DEFAULT_MAX_PUSH_ATTEMPTS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SYNC_INTERVAL_MS,
} from './_checkInit.js'
export {
  COMMIT_SIGNING_DOMAIN,
  type CommitFields,
  type CommitPerson,
  type CommitSignatureStatus,
  renderCommitPayload,
  signedCommitText,
  splitCommitSignature,
  verifyCommitText,
} from './commitSignature.js'
export { type GitRegistryConfig, GitRegistryConfigSchema } from './config.js'
export {
  GitAuthError,
  GitPushConflictError,
  GitRecordPathError,
  GitRefLockedError,
  GitRemoteError,
  GitRepositoryError,
  SeqReusedError,
} from './errors.js'
export { gitRegistry } from './gitRegistry.js'
export type {
  CommitCheck,
  GitAuthor,
  GitRegistry,
  GitRegistryInit,
  GitRegistryStatus,
  SkippedRecord,
  SyncReport,
} from './types.js'
