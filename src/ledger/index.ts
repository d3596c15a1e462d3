import '../_polyfill.js'

// `function-mesh/ledger`: the durable ledger on its own, and offline checks of its proofs.
export {
  CHECKPOINT_SIGNING_DOMAIN,
  type Checkpoint,
  type InclusionProof,
  verifyCheckpoint,
  verifyInclusion,
} from './checkpoint.js'
export { contentId, type EntryType, type LineageEntry } from './entry.js'
export type { KeyRecord } from './idempotencyKeys.js'
export type { LeaseBalance, LeaseGrant, LeaseInfo } from './LeaseBook.js'
export { DEFAULT_CHECKPOINT_EVERY, Ledger, openLedger } from './Ledger.js'
export { leafHash, nodeHash, verifyInclusionPath } from './merkle.js'
export type { CallOutcome, RecentCall, RecentCallsOptions } from './recentCalls.js'
export type { Charge, LedgerInit } from './types.js'
export type { UsageOptions, UsageRow } from './usage.js'
export type { VerifyReport } from './verifyLedger.js'
