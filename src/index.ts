import './_polyfill.js'

export { type CacheOptions, DEFAULT_CACHE_OPTIONS } from './cache/ResolutionCache.js'
export { type Clock, systemClock } from './clock.js'
export { type ErrorDetails, isMeshError, MeshError, type MeshErrorJSON } from './errors/base.js'
export * from './errors/health.js'
export * from './errors/invoke.js'
export * from './errors/ledger.js'
export * from './errors/name.js'
export * from './errors/record.js'
export * from './errors/registry.js'
export * from './errors/resolve.js'
export * from './errors/security.js'
export * from './errors/select.js'
export * from './errors/trust.js'
export {
  type CallOutcome,
  FAILURE_KINDS,
  type FailureKind,
  type HealthChange,
  type HealthSnapshot,
  HealthTracker,
  type HealthTrackerInit,
  providerKey,
} from './health/HealthTracker.js'
export { checkHealthOptions, DEFAULT_HEALTH_OPTIONS, type HealthOptions } from './health/healthOptions.js'
export type { CircuitStateName, ProviderStats, ProviderStatsView } from './health/ProviderStats.js'
export { dispatchEvent } from './invoke/dispatch.js'
export { defineFunction, type GovernedFunction, governedFunction } from './invoke/governedFunction.js'
export {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  createInvoker,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  type Invoker,
} from './invoke/Invoker.js'
export {
  choiceOf,
  defaultDataDir,
  type InvokeOptions,
  type LedgerOptions,
  type MeshBilling,
  type MeshLeases,
  type MeshLineage,
} from './invoke/MeshInvocation.js'
export { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetOptions } from './invoke/RetryBudget.js'
export type {
  CallLineage,
  CallOptions,
  CallResult,
  Choice,
  DispatchResult,
  HealthHook,
  InvokerDeps,
} from './invoke/types.js'
export {
  CHECKPOINT_SIGNING_DOMAIN,
  type Checkpoint,
  type InclusionProof,
  verifyCheckpoint,
  verifyInclusion,
} from './ledger/checkpoint.js'
export { contentId, type EntryType, type LineageEntry } from './ledger/entry.js'
export type { KeyRecord } from './ledger/idempotencyKeys.js'
export type { LeaseBalance, LeaseGrant, LeaseInfo } from './ledger/LeaseBook.js'
export { DEFAULT_CHECKPOINT_EVERY, Ledger, openLedger } from './ledger/Ledger.js'
export { leafHash, nodeHash, verifyInclusionPath } from './ledger/merkle.js'
export type { Charge, LedgerInit } from './ledger/types.js'
export type { UsageOptions, UsageRow } from './ledger/usage.js'
export type { VerifyReport } from './ledger/verifyLedger.js'
export {
  type LocalCallContext,
  type LocalFunction,
  type LocalFunctionDescriptor,
  type LocalHandler,
  Marketplace,
} from './marketplace/Marketplace.js'
export { createMesh, type Mesh, type MeshCache } from './mesh.js'
export type { MeshInit } from './meshOptions.js'
export {
  type FunctionName,
  formatFunctionName,
  formatSelector,
  MAX_NAME_INPUT_LENGTH,
  MAX_NAME_LENGTH,
  MAX_NAMESPACE_LENGTH,
  MAX_PATH_SEGMENTS,
  MAX_SEGMENT_LENGTH,
  MAX_SELECTOR_LENGTH,
  normalizeRecordName,
  parseFunctionName,
  type VersionSelector,
} from './name.js'
export {
  DEFAULT_RECORD_LIFETIME_SECONDS,
  DEFAULT_RECORD_TTL_SECONDS,
  type PublishOptions,
  type PublishResult,
} from './publish.js'
export {
  canonicalBytes,
  MAX_RECORD_BYTES,
  parseRecordJson,
  RECORD_SIGNING_DOMAIN,
  recordId,
  signingPayload,
} from './record/codec.js'
export * from './record/schema.js'
export { type EncodedRecord, signRecord } from './record/signRecord.js'
export { validateRecord } from './record/validate.js'
export {
  DEFAULT_LOOKUP_TIMEOUT_MS,
  type FederatedAnswer,
  federatedLookup,
} from './registry/federatedLookup.js'
export { type MemoryRegistryInit, memoryRegistry } from './registry/memoryRegistry.js'
export { compileNamePattern } from './registry/namePattern.js'
export type { PublishReceipt, Registry, RegistryChange, RegistryEntry } from './registry/types.js'
export { selectVersion } from './resolve/selectVersion.js'
export type {
  ResolveOptions,
  ResolveProgressEvent,
  ResolveResult,
  ResolveSource,
  Verification,
} from './resolve/types.js'
export {
  type FilterResult,
  type FilterSubject,
  filterProviders,
  type RemovedProvider,
  type ScopedContext,
  type Violation,
} from './security/filterProviders.js'
export { RULE_FIXES, SECURITY_RULES, type SecurityRule } from './security/rules.js'
export {
  MAX_ALLOW_LIST,
  SecurityContext,
  type SecurityContextInit,
  securityContext,
} from './security/SecurityContext.js'
export { type Rate, type RatesInit, RateTable, rateTable } from './select/RateTable.js'
export { DEFAULT_SECURITY_CONTEXT, Selector, type SelectorInit } from './select/Selector.js'
export { seededRandom } from './select/seededRandom.js'
export { type StaticStatsInit, staticStats } from './select/staticStats.js'
export { fastest } from './select/strategies/fastest.js'
export {
  DEFAULT_SLA_TIERS,
  type HighestAvailabilityOptions,
  highestAvailability,
} from './select/strategies/highestAvailability.js'
export {
  DEFAULT_NEW_PROVIDER_PROBES,
  type LoadBalanceOptions,
  loadBalance,
} from './select/strategies/loadBalance.js'
export { lowestCost } from './select/strategies/lowestCost.js'
export { resolveStrategy } from './select/strategies/resolveStrategy.js'
export { type WeightedOptions, weighted } from './select/strategies/weighted.js'
export {
  type Candidate,
  type EjectionDecision,
  type Removal,
  type RemovalRule,
  type RemovedCandidate,
  type SelectionInit,
  type SelectOptions,
  type SelectResult,
  STRATEGY_NAMES,
  type Strategy,
  type StrategyChoice,
  type StrategyInput,
  type StrategyName,
  type StrategySpec,
} from './select/types.js'
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  type HttpTransportInit,
  httpTransport,
} from './transport/httpTransport.js'
export { type GovernedCallContext, localTransport } from './transport/localTransport.js'
export type { Transport, TransportRequest, TransportResponse } from './transport/types.js'
export { fileSeqLedger } from './trust/fileSeqLedger.js'
export { pinnedTrust } from './trust/pinnedTrust.js'
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  RecordVerifier,
  type RecordVerifierInit,
  type VerifiedRecord,
  type VerifyOptions,
} from './trust/RecordVerifier.js'
export { memorySeqLedger, type SeqLedger } from './trust/SeqLedger.js'
export {
  generateSigner,
  importSigner,
  keyIdFromPublicKey,
  type LocalSigner,
  type PrivateKeyJwk,
  publicKeyFromKeyId,
  type Signer,
} from './trust/signer.js'
export type { AbortOptions, TrustInit, TrustSource } from './trust/types.js'
