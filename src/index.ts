import './_polyfill.js'

export { type CacheOptions, DEFAULT_CACHE_OPTIONS } from './cache/ResolutionCache.js'
export { type Clock, systemClock } from './clock.js'
export { type ErrorDetails, isMeshError, MeshError, type MeshErrorJSON } from './errors/base.js'
export * from './errors/name.js'
export * from './errors/record.js'
export * from './errors/registry.js'
export * from './errors/resolve.js'
export * from './errors/trust.js'
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
