import { MeshError } from './base.js'

interface RecordRef {
  name: string
  origin?: string | undefined
}

/** A signature from a namespace owner's key does not verify over the record. */
export class SignatureInvalidError extends MeshError {
  override name = 'SignatureInvalidError'
  constructor(ref: RecordRef, keyId: string, reason = 'signature does not match the record') {
    super('E_SIGNATURE_INVALID', `Record ${ref.name}: ${reason} (key ${keyId})`, {
      details: { name: ref.name, keyId, origin: ref.origin },
      hint: 'The record was altered after signing or signed with another key; publish it again.',
    })
  }
}

/** The record carries no signature at all. */
export class RecordUnsignedError extends MeshError {
  override name = 'RecordUnsignedError'
  constructor(ref: RecordRef) {
    super('E_RECORD_UNSIGNED', `Record ${ref.name} has no signature`, {
      details: { name: ref.name, origin: ref.origin },
      hint: 'Sign it with `fmesh publish` or `signRecord(record, signer)`.',
    })
  }
}

/** None of the record's signatures is by a key allowed to publish for its namespace. */
export class SignerNotOwnerError extends MeshError {
  override name = 'SignerNotOwnerError'
  constructor(ref: RecordRef & { namespace: string }, keyIds: readonly string[]) {
    super(
      'E_SIGNER_NOT_OWNER',
      `Record ${ref.name} is not signed by an owner of namespace ${ref.namespace}`,
      {
        details: { name: ref.name, namespace: ref.namespace, signedBy: keyIds, origin: ref.origin },
        hint: `Sign with a publisher key of ${ref.namespace}, or add the key to trust.owners['${ref.namespace}'].`,
      },
    )
  }
}

/** No trust source knows any publisher key for the namespace. */
export class NamespaceUnownedError extends MeshError {
  override name = 'NamespaceUnownedError'
  constructor(namespace: string, name?: string) {
    super('E_NAMESPACE_UNOWNED', `No publisher keys are known for namespace ${namespace}`, {
      details: { namespace, name },
      hint: `Nothing here says who may publish for ${namespace}: pin its publisher keys (\`"trust": { "owners": { "${namespace}": [KEY_ID] } }\` in fmesh.json, or createMesh's \`trust.owners\`), or use a chain registry where it is claimed.`,
    })
  }
}

/** The record's `expiresAt` has passed. */
export class RecordExpiredError extends MeshError {
  override name = 'RecordExpiredError'
  constructor(ref: RecordRef, expiresAt: string, now: string) {
    super('E_RECORD_EXPIRED', `Record ${ref.name} expired at ${expiresAt}`, {
      details: { name: ref.name, expiresAt, now, origin: ref.origin },
      hint: 'The publisher must publish a fresh record with a later expiresAt.',
    })
  }
}

/** The record's `issuedAt` lies further in the future than the allowed clock skew. */
export class RecordNotYetValidError extends MeshError {
  override name = 'RecordNotYetValidError'
  constructor(ref: RecordRef, issuedAt: string, now: string) {
    super('E_RECORD_NOT_YET_VALID', `Record ${ref.name} is issued in the future (${issuedAt})`, {
      details: { name: ref.name, issuedAt, now, origin: ref.origin },
      hint: "Check the publisher's clock (and this machine's).",
    })
  }
}

/** A record's `seq` is lower than the highest already accepted for that name (rollback). */
export class SeqRollbackError extends MeshError {
  override name = 'SeqRollbackError'
  constructor(ref: RecordRef, seq: number, highest: number) {
    super('E_SEQ_ROLLBACK', `Record ${ref.name} has seq ${seq}, below ${highest} already accepted`, {
      details: { name: ref.name, seq, highest, origin: ref.origin },
      hint: 'A source is serving an old record. Publishers must raise seq with every update.',
    })
  }
}
