import '../_polyfill.js'

// The registry kit (`function-mesh/registry`): what a third-party registry is built from.
export { raceSignal, throwIfAborted } from '../abort.js'
export { type CancelTimer, type Clock, scheduleOn, systemClock } from '../clock.js'
export type {
  ComponentLogger,
  RegistryComponents,
  RegistryFactory,
  Startable,
} from '../components.js'
export { type ErrorDetails, isMeshError, MeshError, type MeshErrorJSON } from '../errors/base.js'
export { RecordMalformedError, RecordSchemaError, RecordTooLargeError } from '../errors/record.js'
export {
  ConfigError,
  PublishConflictError,
  RegistryError,
  RegistryUnknownError,
} from '../errors/registry.js'
export { AbortedError, TimeoutError } from '../errors/resolve.js'
export { type Logger, logger } from '../logger.js'
export { checkKnownKeys } from '../options.js'
export type { FunctionRecord } from '../record/schema.js'
export type { EncodedRecord } from '../record/signRecord.js'
export type { RecordVerifier, VerifiedRecord, VerifyOptions } from '../trust/RecordVerifier.js'
export type { SeqLedger } from '../trust/SeqLedger.js'
export type { TrustSource } from '../trust/types.js'
export { checkEncodedRecord } from './checkEncodedRecord.js'
export { type MemoryRegistryInit, memoryRegistry } from './memoryRegistry.js'
export { compileNamePattern, MAX_PATTERN_LENGTH } from './namePattern.js'
export {
  type RegistryComponentsInit,
  registryComponents,
  type StandaloneComponents,
} from './registryComponents.js'
export type {
  AbortOptions,
  ContentStore,
  PublishReceipt,
  Registry,
  RegistryChange,
  RegistryEntry,
  VersionMark,
} from './types.js'
export { type WatchQueue, watchQueue } from './watchQueue.js'
