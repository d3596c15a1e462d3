import '../_polyfill.js'

// `function-mesh/record`: record names, schemas, canonical bytes, ids and signing on their own.
export {
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
} from '../name.js'
export { selectVersion } from '../resolve/selectVersion.js'
export {
  canonicalBytes,
  MAX_RECORD_BYTES,
  parseRecordJson,
  RECORD_SIGNING_DOMAIN,
  recordId,
  signingPayload,
} from './codec.js'
export * from './schema.js'
export { type EncodedRecord, signRecord } from './signRecord.js'
export { validateRecord } from './validate.js'
