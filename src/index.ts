import './_polyfill.js'

// The root entry point: the contract of DESIGN section 6 and its option, result and error types.
// Everything else is behind a subpath (function-mesh/errors, /record, /trust, /select, /ledger,
// /transport, /registry, /testing) or internal.

export type { CacheOptions } from './cache/ResolutionCache.js'
export type { CancelTimer, Clock } from './clock.js'
export type {
  ComponentLogger,
  RegistryComponents,
  RegistryFactory,
  ServiceComponents,
  ServiceFactory,
  Startable,
} from './components.js'
export { type ErrorDetails, isMeshError, MeshError, type MeshErrorJSON } from './errors/base.js'
export type { RegistryOutcome } from './errors/resolve.js'
export type {
  CallEvent,
  ChangeEvent,
  MeshEventListener,
  MeshEventMap,
  MeshEvents,
  MeshEventType,
  PublishEvent,
  ResolveEvent,
} from './events.js'
export type { HealthSnapshot, HealthTracker } from './health/HealthTracker.js'
export type { HealthOptions } from './health/healthOptions.js'
export { defineFunction, type GovernedFunction, governedFunction } from './invoke/governedFunction.js'
export type { InvokeOptions, LedgerOptions } from './invoke/MeshInvocation.js'
export type { CallLineage, CallOptions, CallResult, DispatchResult } from './invoke/types.js'
export type { MeshBilling } from './ledger/billingFacade.js'
export type { Checkpoint, InclusionProof } from './ledger/checkpoint.js'
export type { EntryType, LineageEntry } from './ledger/entry.js'
export type { LeaseBalance, LeaseGrant, LeaseInfo } from './ledger/LeaseBook.js'
export type { MeshLeases } from './ledger/leasesFacade.js'
export type { MeshLineage } from './ledger/lineageFacade.js'
export type { Charge } from './ledger/types.js'
export type { UsageOptions, UsageRow } from './ledger/usage.js'
export type { VerifyReport } from './ledger/verifyLedger.js'
export type {
  LocalCallContext,
  LocalFunctionDescriptor,
  LocalHandler,
  Marketplace,
} from './marketplace/Marketplace.js'
export { createMesh, type Mesh, type MeshCache } from './mesh.js'
export type { MeshInit } from './meshOptions.js'
export {
  type FunctionName,
  formatFunctionName,
  parseFunctionName,
  type VersionSelector,
} from './name.js'
export type { PublishOptions, PublishResult } from './publish.js'
export type {
  Cost,
  Descriptor,
  FunctionRecord,
  FunctionVersion,
  IdempotencyClass,
  Provider,
  RecordDraft,
  RiskTier,
  SecurityLevel,
  SecurityRequirements,
} from './record/schema.js'
export { type MemoryRegistryInit, memoryRegistry } from './registry/memoryRegistry.js'
export type {
  PublishReceipt,
  Registry,
  RegistryChange,
  RegistryEntry,
  VersionMark,
} from './registry/types.js'
export type {
  ResolveOptions,
  ResolveProgressEvent,
  ResolveResult,
  ResolveSource,
  Verification,
} from './resolve/types.js'
export {
  type SecurityContext,
  type SecurityContextInit,
  securityContext,
} from './security/SecurityContext.js'
export type {
  Candidate,
  SelectOptions,
  SelectResult,
  Strategy,
  StrategyChoice,
  StrategyInput,
  StrategyName,
  StrategySpec,
} from './select/types.js'
export type { Transport, TransportRequest, TransportResponse } from './transport/types.js'
export { pinnedTrust } from './trust/pinnedTrust.js'
export type { SeqLedger } from './trust/SeqLedger.js'
export {
  generateSigner,
  importSigner,
  type LocalSigner,
  type PrivateKeyJwk,
  type Signer,
} from './trust/signer.js'
export type { AbortOptions, TrustInit, TrustSource } from './trust/types.js'
