import { type KeyObject, verify } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { jsonCidOfDigest } from '../encoding/jsonCid.js'
import { MeshError } from '../errors/base.js'
import { RecordLimitError, RecordMalformedError, RecordTooLargeError } from '../errors/record.js'
import { parseRecordSource, type RecordSource, recordForms, recordId } from '../record/codec.js'
import { publicKeyObject } from './signer.js'

/**
 * The integrity half of verifying a record: a pure function of its bytes (size, UTF-8, JSON,
 * canonical forms, id, and which ed25519 signatures verify). Whether those signers may publish for
 * the namespace, the schema and the time window are the verifier's authority half, on the main thread.
 */
export type Integrity = IntegrityFacts | { readonly error: MeshError }

export interface IntegrityFacts {
  /** CIDv1 of {@link IntegrityFacts.canonical}. */
  readonly id: string
  /** The record's canonical bytes, signatures included. */
  readonly canonical: Uint8Array
  /** Key ids (ed25519 did:keys) whose signatures over the record verified. */
  readonly good: ReadonlySet<string>
}

/** Checks one ed25519 signature over `payload`. */
export type SignatureCheck = (
  payload: Uint8Array,
  key: KeyObject,
  sig: Uint8Array,
) => boolean | Promise<boolean>

/** On this thread. */
export const verifyHere: SignatureCheck = (payload, key, sig) => verify(null, payload, key, sig)

/**
 * On libuv's thread pool (Node's callback form of `crypto.verify`), so this thread parses and checks
 * the next record of a batch meanwhile.
 */
export const verifyOnThreadPool: SignatureCheck = (payload, key, sig) =>
  new Promise((resolve, reject) => {
    verify(null, payload, key, sig, (err, ok) => (err ? reject(err) : resolve(ok)))
  })

export interface IntegrityOptions {
  /** The public key of an ed25519 did:key, undefined for any other key id. */
  readonly keyObject: (keyId: string) => KeyObject | undefined
  /** Where the bytes came from, named in refusals. */
  readonly origin?: string | undefined
  /** Check only the signatures by these keys (the namespace's owners); every signature when absent. */
  readonly keys?: ReadonlySet<string> | undefined
  /** @default verifyHere */
  readonly verify?: SignatureCheck | undefined
  /** The SHA-256 of the source bytes (see `sha256`), when the caller has it: the id of bytes already canonical. */
  readonly digest?: string | undefined
}

/**
 * The one integrity check of record bytes, wherever it runs: on the verification workers, on the
 * main thread when it takes queued records or a worker dies, and in `RecordVerifier` without workers
 * (there through {@link integrityOf}, with the record it already parsed). A refusal settles as
 * `{ error }` with the `MeshError` the codec threw; only a bug rejects.
 */
export async function checkIntegrity(
  bytes: Uint8Array,
  maxBytes: number,
  options: IntegrityOptions,
): Promise<Integrity> {
  const origin = options.origin
  let parsed: { value: Record<string, unknown>; source: RecordSource }
  try {
    // Spread only for exactOptionalPropertyTypes: `{ origin: undefined }` reads the same (an equivalent mutant).
    parsed = parseRecordSource(bytes, { maxBytes, ...(origin === undefined ? {} : { origin }) })
  } catch (error) {
    return refused(error)
  }
  return integrityOf(parsed.value, options, parsed.source)
}

/**
 * {@link checkIntegrity} of a record already parsed (by `parseRecordSource`); with the `source` it
 * was parsed from, bytes already canonical are not serialized again.
 */
export async function integrityOf(
  raw: Record<string, unknown>,
  options: IntegrityOptions,
  source?: RecordSource,
): Promise<Integrity> {
  let forms: { payload: Uint8Array; canonical: Uint8Array }
  try {
    forms = recordForms(raw, options.origin, source)
  } catch (error) {
    return refused(error)
  }
  const check = options.verify ?? verifyHere
  const good = new Set<string>()
  const signatures = Array.isArray(raw.signatures) ? (raw.signatures as unknown[]) : []
  // Of the skips below, only `s === null` and the `keys` filter change an answer: a non-object
  // destructures to undefined fields, and a sig or key of the wrong type makes `check` throw, which
  // counts as a bad signature. They say what is skipped instead of leaning on that (mutation testing
  // reports them as equivalent mutants).
  for (const s of signatures) {
    if (s === null || typeof s !== 'object') continue
    const { keyId, sig } = s as { keyId?: unknown; sig?: unknown }
    if (typeof keyId !== 'string' || typeof sig !== 'string') continue
    if (options.keys !== undefined && !options.keys.has(keyId)) continue
    const key = options.keyObject(keyId)
    if (key === undefined) continue
    let ok = false
    try {
      const answer = check(forms.payload, key, Buffer.from(sig, 'base64url'))
      // No microtask for a check that answers at once (on this thread).
      ok = typeof answer === 'boolean' ? answer : await answer
    } catch {
      ok = false
    }
    if (ok) good.add(keyId)
  }
  // Bytes already canonical are their own canonical form: their digest, if known, gives the id.
  const id =
    options.digest !== undefined && source !== undefined && forms.canonical === source.bytes
      ? jsonCidOfDigest(options.digest)
      : recordId(forms.canonical)
  return { id, canonical: forms.canonical, good }
}

/** {@link publicKeyObject}, remembered: key ids to public keys in a bounded cache. */
export function keyObjects(max = 4096): (keyId: string) => KeyObject | undefined {
  const keys = new LRUCache<string, KeyObject | false>({ max })
  return (keyId) => {
    let key = keys.get(keyId)
    if (key === undefined) {
      key = publicKeyObject(keyId) ?? false
      keys.set(keyId, key)
    }
    // `false` marks an id that is no key; `key || undefined` would read the same (equivalent mutant).
    return key === false ? undefined : key
  }
}

function refused(error: unknown): Integrity {
  if (error instanceof MeshError) return { error }
  throw error
}

/**
 * A refusal as it crosses from a worker: the error's class and its constructor arguments (the
 * origin is the main thread's to add back).
 */
export type WireRefusal =
  | { readonly code: 'E_RECORD_TOO_LARGE'; readonly size: number; readonly limit: number }
  | { readonly code: 'E_RECORD_LIMIT'; readonly path: string; readonly count: number; readonly limit: number }
  | {
      readonly code: 'E_RECORD_MALFORMED'
      readonly reason: string
      readonly cause?: { readonly name: string; readonly message: string }
    }

/** A worker's refusal in wire form; undefined for an error the integrity check never settles with. */
export function toWire(error: MeshError): WireRefusal | undefined {
  if (error instanceof RecordTooLargeError) {
    const { size, limit } = error.details as { size: number; limit: number }
    return { code: 'E_RECORD_TOO_LARGE', size, limit }
  }
  if (error instanceof RecordLimitError) {
    const { path, count, limit } = error.details as { path: string; count: number; limit: number }
    return { code: 'E_RECORD_LIMIT', path, count, limit }
  }
  if (error instanceof RecordMalformedError) {
    const cause =
      error.cause instanceof Error ? { name: error.cause.name, message: error.cause.message } : undefined
    return { code: 'E_RECORD_MALFORMED', reason: error.reason, ...(cause === undefined ? {} : { cause }) }
  }
  return undefined
}

/** Rebuilds a worker's refusal as the MeshError the in-thread check settles with. */
export function fromWire(refusal: WireRefusal, origin: string | undefined): MeshError {
  const where = origin === undefined ? {} : { origin }
  switch (refusal.code) {
    case 'E_RECORD_TOO_LARGE':
      return new RecordTooLargeError(refusal.size, refusal.limit, where)
    case 'E_RECORD_LIMIT':
      return new RecordLimitError(refusal.path, refusal.count, refusal.limit, where)
    case 'E_RECORD_MALFORMED': {
      const { cause } = refusal
      return new RecordMalformedError(
        refusal.reason,
        where,
        cause === undefined ? undefined : Object.assign(new Error(cause.message), { name: cause.name }),
      )
    }
  }
}
