import { MeshError } from './base.js'

/** Where an untrusted record came from, for error messages: a registry, a peer, a file. */
export interface RecordOrigin {
  origin?: string
}

/** A record's encoded size is over the limit; it was refused before parsing. */
export class RecordTooLargeError extends MeshError {
  override name = 'RecordTooLargeError'
  constructor(size: number, limit: number, where: RecordOrigin = {}) {
    super('E_RECORD_TOO_LARGE', `Record is ${size} bytes, over the ${limit}-byte limit`, {
      details: { size, limit, origin: where.origin },
      hint: 'Split the function into several names or move large schemas out of the record.',
    })
  }
}

/** The bytes are not JSON (or nest too deeply to parse safely). */
export class RecordMalformedError extends MeshError {
  override name = 'RecordMalformedError'
  /** Why: `not UTF-8`, the JSON parser's message, `nested too deeply`, ... */
  readonly reason: string
  constructor(reason: string, where: RecordOrigin = {}, cause?: unknown) {
    super('E_RECORD_MALFORMED', `Record is not valid JSON: ${reason}`, {
      details: { origin: where.origin },
      hint: 'Records are UTF-8 JSON objects; re-export the record with `fmesh publish`.',
      cause,
    })
    this.reason = reason
  }
}

/** A field of the record breaks the schema. `details.path` is the field, `details.rule` the rule. */
export class RecordSchemaError extends MeshError {
  override name = 'RecordSchemaError'
  constructor(path: string, rule: string, where: RecordOrigin = {}) {
    super('E_RECORD_SCHEMA', `Record field ${path || '(root)'} is invalid: ${rule}`, {
      details: { path: path || '(root)', rule, origin: where.origin },
      hint: 'Fix the field and sign the record again (`fmesh record lint FILE` checks a draft); the README\'s "Records" section lists every field.',
    })
  }
}

/** A count limit (versions, providers, signatures) was exceeded. */
export class RecordLimitError extends MeshError {
  override name = 'RecordLimitError'
  constructor(path: string, count: number, limit: number, where: RecordOrigin = {}) {
    super('E_RECORD_LIMIT', `Record field ${path} has ${count} entries, over the limit of ${limit}`, {
      details: { path, count, limit, origin: where.origin },
      hint: 'Publish fewer entries per record (e.g. drop old versions or split providers).',
    })
  }
}
