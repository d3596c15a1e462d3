import { type KeyObject, verify as verifySignature } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type Clock, systemClock } from '../clock.js'
import { RecordSchemaError } from '../errors/record.js'
import {
  NamespaceUnownedError,
  RecordExpiredError,
  RecordNotYetValidError,
  RecordUnsignedError,
  SignatureInvalidError,
  SignerNotOwnerError,
} from '../errors/trust.js'
import { canonicalBytes, parseRecordJson, recordId, signingPayload } from '../record/codec.js'
import type { FunctionRecord } from '../record/schema.js'
import { validateRecord } from '../record/validate.js'
import { publicKeyObject } from './signer.js'
import type { AbortOptions, TrustSource } from './types.js'

/** A record that passed every check, with the facts of how. */
export interface VerifiedRecord {
  readonly record: FunctionRecord
  /** CIDv1 of {@link VerifiedRecord.bytes}. */
  readonly id: string
  /** The record's canonical (RFC 8785) bytes, signatures included. */
  readonly bytes: Uint8Array
  /** The owner key whose signature verified. */
  readonly keyId: string
  /** The trust source that said the key may publish for the namespace. */
  readonly trustSource: string
}

export interface VerifyOptions extends AbortOptions {
  /** Where the bytes came from, named in errors. */
  origin?: string
  /** Refuse the record unless it is for this name (a registry answering for another name). */
  expectName?: string
  /** Accept a record past its `expiresAt` (publishers reading the seq of the record they replace). */
  allowExpired?: boolean
}

export interface RecordVerifierInit {
  trust: readonly TrustSource[]
  clock?: Clock
  /** @default MAX_RECORD_BYTES */
  maxBytes?: number
  /** How far in the future `issuedAt` may lie. @default 300000 (5 minutes) */
  maxClockSkewMs?: number
}

/** Clock skew tolerated on `issuedAt`. @default 300000 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000

/**
 * Verifies untrusted record bytes: size, JSON, schema, name, time window, and a signature by a key
 * allowed to publish for the record's namespace. (Rollback is checked by the mesh, which knows the
 * highest seq accepted so far.)
 *
 * @example
 * ```ts
 * const verifier = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [signer.id] })] })
 * const { record, id } = await verifier.verify(bytes, { origin: 'git' })
 * ```
 */
export class RecordVerifier {
  private readonly trust: readonly TrustSource[]
  private readonly clock: Clock
  private readonly maxBytes: number | undefined
  private readonly maxSkew: number
  private readonly keys = new LRUCache<string, KeyObject | false>({ max: 4096 })

  constructor(init: RecordVerifierInit) {
    this.trust = init.trust
    this.clock = init.clock ?? systemClock
    this.maxBytes = init.maxBytes
    this.maxSkew = init.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  }

  async verify(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifiedRecord> {
    const origin = options.origin
    const raw = parseRecordJson(bytes, {
      ...(this.maxBytes === undefined ? {} : { maxBytes: this.maxBytes }),
      ...(origin === undefined ? {} : { origin }),
    })
    const record = validateRecord(raw, origin)
    if (options.expectName !== undefined && record.name !== options.expectName) {
      throw new RecordSchemaError(
        'name',
        `expected ${options.expectName}, the name that was looked up`,
        origin === undefined ? {} : { origin },
      )
    }
    const ref = { name: record.name, origin }
    const now = this.clock.now()
    if (options.allowExpired !== true && Date.parse(record.expiresAt) <= now) {
      throw new RecordExpiredError(ref, record.expiresAt, new Date(now).toISOString())
    }
    if (Date.parse(record.issuedAt) > now + this.maxSkew) {
      throw new RecordNotYetValidError(ref, record.issuedAt, new Date(now).toISOString())
    }
    if (record.signatures.length === 0) throw new RecordUnsignedError(ref)
    const { owners, source } = await this.ownersOf(record.namespace, record.name, options)
    const ownerSignatures = record.signatures.filter((s) => owners.includes(s.keyId))
    if (ownerSignatures.length === 0) {
      throw new SignerNotOwnerError(
        { ...ref, namespace: record.namespace },
        record.signatures.map((s) => s.keyId),
      )
    }
    const payload = signingPayload(raw, origin)
    for (const signature of ownerSignatures) {
      const key = this.keyObject(signature.keyId)
      if (key === undefined)
        throw new SignatureInvalidError(ref, signature.keyId, 'the key id is not an ed25519 did:key')
      const sig = Buffer.from(signature.sig, 'base64url')
      if (!verifySignature(null, payload, key, sig)) throw new SignatureInvalidError(ref, signature.keyId)
    }
    const canonical = canonicalBytes(raw, origin)
    return {
      record,
      id: recordId(canonical),
      bytes: canonical,
      keyId: ownerSignatures[0]!.keyId,
      trustSource: source,
    }
  }

  /** The publisher keys of a namespace from the first trust source that knows it. */
  async ownersOf(
    namespace: string,
    name?: string,
    options: AbortOptions = {},
  ): Promise<{ owners: readonly string[]; source: string }> {
    for (const source of this.trust) {
      const owners = await source.publishersOf(namespace, options)
      if (owners !== undefined) return { owners, source: source.id }
    }
    throw new NamespaceUnownedError(namespace, name)
  }

  private keyObject(keyId: string): KeyObject | undefined {
    let key = this.keys.get(keyId)
    if (key === undefined) {
      key = publicKeyObject(keyId) ?? false
      this.keys.set(keyId, key)
    }
    return key === false ? undefined : key
  }
}
