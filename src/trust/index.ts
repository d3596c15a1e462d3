import '../_polyfill.js'

// `function-mesh/trust`: verification, trust sources, seq ledgers and keys on their own.
export { fileSeqLedger } from './fileSeqLedger.js'
export { pinnedTrust } from './pinnedTrust.js'
export {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  RecordVerifier,
  type RecordVerifierInit,
  type VerifiedRecord,
  type VerifyOptions,
} from './RecordVerifier.js'
export { memorySeqLedger, type SeqLedger } from './SeqLedger.js'
export {
  generateSigner,
  importSigner,
  keyIdFromPublicKey,
  type LocalSigner,
  type PrivateKeyJwk,
  publicKeyFromKeyId,
  type Signer,
} from './signer.js'
export { TrustChain } from './trustChain.js'
export type { AbortOptions, TrustInit, TrustSource } from './types.js'
