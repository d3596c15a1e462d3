import { RecordTooLargeError } from '../../src/errors/record.js'
import type { FunctionRecord } from '../../src/record/schema.js'
import type { RecordVerifier, VerifiedRecord } from '../../src/trust/RecordVerifier.js'

/** What the registry learns from a record it accepts. */
export interface CheckedRecord {
  readonly record: FunctionRecord
  readonly id: string
  /**
   * Whether a trust source knows the namespace. A record of an unowned one passed integrity only:
   * the registry keeps it (the mesh refuses it) but its seq is no floor for the name.
   */
  readonly owned: boolean
}

export interface CheckOptions {
  origin: string
  expectName: string
  signal?: AbortSignal
}

/** Checks untrusted record bytes read from Git; throws the MeshError that says why they are refused. */
export interface RecordCheck {
  (bytes: Uint8Array, options: CheckOptions): Promise<CheckedRecord>
  /** Checks a batch (a sync's changed records), each settled on its own, in input order. */
  many(
    items: readonly { bytes: Uint8Array; options: CheckOptions }[],
  ): Promise<PromiseSettledResult<CheckedRecord>[]>
  /**
   * `many` in two steps (see `RecordVerifier.prepareMany`): worker threads start on the batch now,
   * this thread finishes it later.
   */
  prepare?(items: readonly { bytes: Uint8Array; options: CheckOptions }[]): PreparedChecks
}

/** A batch of checks started by {@link RecordCheck.prepare}. */
export interface PreparedChecks {
  finish(): Promise<PromiseSettledResult<CheckedRecord>[]>
  discard(): void
}

/**
 * The mesh's verification (size, schema, name, owner signature), expiry aside, since an expired
 * record is still the newest one a publisher replaces; a file over the registry's own `maxBytes` is
 * refused before it is parsed. A namespace the mesh's trust does not know is checked for integrity
 * only (each signature verifies for its key): the registry stores it, and the mesh, which verifies
 * every record it resolves, refuses it with `E_NAMESPACE_UNOWNED`, the real cause.
 */
export function recordCheck(verifier: RecordVerifier, maxBytes: number | undefined): RecordCheck {
  type Items = readonly { bytes: Uint8Array; options: CheckOptions }[]
  const verifyOptions = ({ origin, expectName, signal }: CheckOptions) => ({
    origin,
    expectName,
    allowExpired: true,
    unowned: 'integrity' as const,
    ...(signal === undefined ? {} : { signal }),
  })
  const tooLarge = (bytes: Uint8Array, origin: string) =>
    maxBytes !== undefined && bytes instanceof Uint8Array && bytes.byteLength > maxBytes
      ? new RecordTooLargeError(bytes.byteLength, maxBytes, { origin })
      : undefined
  /** The files within the size limit, for the verifier, and the refusals of the others. */
  const split = (items: Items) => {
    const refused = items.map(({ bytes, options }) => tooLarge(bytes, options.origin))
    const accepted = items
      .filter((_, i) => refused[i] === undefined)
      .map(({ bytes, options }) => ({ bytes, options: verifyOptions(options) }))
    return { refused, accepted }
  }
  /** The verifier's results put back in input order, among the size refusals. */
  const merge = async (
    refused: readonly (Error | undefined)[],
    settled: Promise<PromiseSettledResult<Verified>[]>,
  ): Promise<PromiseSettledResult<CheckedRecord>[]> => {
    const results = await settled
    let k = 0
    return refused.map((error): PromiseSettledResult<CheckedRecord> => {
      if (error !== undefined) return { status: 'rejected', reason: error }
      const s = results[k++]!
      return s.status === 'fulfilled' ? { status: 'fulfilled', value: checked(s.value) } : s
    })
  }
  return Object.assign(
    async (bytes: Uint8Array, options: CheckOptions) => {
      const error = tooLarge(bytes, options.origin)
      if (error !== undefined) throw error
      return checked(await verifier.verify(bytes, verifyOptions(options)))
    },
    {
      many(items: Items) {
        const { refused, accepted } = split(items)
        return merge(refused, verifier.verifyMany(accepted))
      },
      prepare(items: Items): PreparedChecks {
        const { refused, accepted } = split(items)
        const batch = verifier.prepareMany(accepted)
        return { finish: () => merge(refused, batch.finish()), discard: () => batch.discard() }
      },
    },
  )
}

/** What the registry takes from the verifier's answer. */
type Verified = Pick<VerifiedRecord, 'record' | 'id' | 'trustSource'>

function checked({ record, id, trustSource }: Verified): CheckedRecord {
  return { record, id, owned: trustSource !== 'none' }
}
