import { type KeyObject, verify as verifySignature } from 'node:crypto'
import type { MeshError } from '../errors/base.js'
import { RecordLimitError, RecordMalformedError, RecordTooLargeError } from '../errors/record.js'
import { parseRecordJson, recordForms, recordId } from '../record/codec.js'

/**
 * The integrity half of verifying a record: a pure function of its bytes (size, UTF-8, JSON,
 * canonical forms, id, and which ed25519 signatures verify). Whether those signers may publish for
 * the namespace, the schema and the time window are the verifier's authority half, on the main thread.
 */
export type Integrity =
  | {
      /** CIDv1 of {@link canonical}. */
      readonly id: string
      /** The record's canonical bytes, signatures included. */
      readonly canonical: Uint8Array
      /** Key ids (ed25519 did:keys) whose signatures over the record verified. */
      readonly good: ReadonlySet<string>
    }
  | { readonly error: MeshError }

/** A refusal as it crosses from a worker: the error's code and its constructor arguments. */
export interface WireRefusal {
  readonly code: string
  readonly args: readonly unknown[]
}

/** Checks integrity on this thread, with exactly the codec the worker mirrors. */
export function integrityInThread(
  bytes: Uint8Array,
  maxBytes: number,
  origin: string | undefined,
  keyObject: (keyId: string) => KeyObject | undefined,
): Integrity {
  try {
    const raw = parseRecordJson(bytes, { maxBytes, ...(origin === undefined ? {} : { origin }) })
    const { payload, canonical } = recordForms(raw, origin)
    const good = new Set<string>()
    const signatures = Array.isArray(raw.signatures) ? (raw.signatures as unknown[]) : []
    for (const s of signatures) {
      if (s === null || typeof s !== 'object') continue
      const { keyId, sig } = s as { keyId?: unknown; sig?: unknown }
      if (typeof keyId !== 'string' || typeof sig !== 'string') continue
      const key = keyObject(keyId)
      if (key === undefined) continue
      let ok = false
      try {
        ok = verifySignature(null, payload, key, Buffer.from(sig, 'base64url'))
      } catch {
        ok = false
      }
      if (ok) good.add(keyId)
    }
    return { id: recordId(canonical), canonical, good }
  } catch (error) {
    return { error: error as MeshError }
  }
}

/** Rebuilds a worker's refusal as the MeshError subclass the in-thread path throws. */
export function refusalError(refusal: WireRefusal, origin: string | undefined): MeshError {
  const where = origin === undefined ? {} : { origin }
  const a = refusal.args
  switch (refusal.code) {
    case 'E_RECORD_TOO_LARGE':
      return new RecordTooLargeError(a[0] as number, a[1] as number, where)
    case 'E_RECORD_LIMIT':
      return new RecordLimitError(a[0] as string, a[1] as number, a[2] as number, where)
    default: {
      const cause = a[1] as { name?: string; message?: string } | undefined
      return new RecordMalformedError(
        String(a[0]),
        where,
        cause === undefined ? undefined : Object.assign(new Error(cause.message), { name: cause.name }),
      )
    }
  }
}
