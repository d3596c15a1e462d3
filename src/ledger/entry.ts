import { canonicalBytes, recordId } from '../record/codec.js'

export type EntryType = 'FUNCTION_INVOKED' | 'FUNCTION_COMPLETED' | 'FUNCTION_FAILED'

/** What every lineage entry carries. `seq`, `prev` and `at` are filled in by the ledger. */
export interface EntryBase {
  /** Entry format version. */
  readonly v: 1
  readonly type: EntryType
  /** Position in the log, from 0: the Merkle leaf index. */
  readonly seq: number
  /** The id (CID) of the entry before this one; `null` for the first. */
  readonly prev: string | null
  /** Epoch milliseconds when the ledger accepted the entry. */
  readonly at: number
  /** The call this attempt belongs to (shared by every attempt and the idempotency record). */
  readonly invocation: string
  /** 1 for the first attempt, 2 for the first retry or failover, ... */
  readonly attempt: number
  /** `namespace/path`. */
  readonly function: string
  readonly version: string
  readonly provider: string
  readonly principal: string
}

/** Written, and committed, before the provider is asked. */
export interface InvokedEntry extends EntryBase {
  readonly type: 'FUNCTION_INVOKED'
  readonly endpoint: string
  /** CID of the record the version came from (`local:name@version` for marketplace functions). */
  readonly recordId: string
  /** Why this provider was picked. */
  readonly reason: string
  readonly inputCid: string
  readonly idempotencyClass: string
  readonly idempotencyKey?: string
  /** W3C trace context sent to the provider. */
  readonly traceparent: string
  readonly lease?: string
  /** Set when a trigger dispatch started the call. */
  readonly trigger?: { readonly kind: string; readonly eventCid: string }
  /** Set when this node ran the call for a remote caller: the caller's invocation id. */
  readonly callerInvocation?: string
}

/** Written with its charge, in one transaction. */
export interface CompletedEntry extends EntryBase {
  readonly type: 'FUNCTION_COMPLETED'
  /** The id of this attempt's FUNCTION_INVOKED entry. */
  readonly invoked: string
  readonly outputCid: string
  readonly durationMs: number
  /** Units of work the provider reported, a decimal string. */
  readonly quantity: string
  /** What the charge for this entry must say. `currency` is null for a free provider. */
  readonly charge: { readonly currency: string | null; readonly amount: string }
  /** The provider's own invocation id, when its transport reports one (a remote mesh node). */
  readonly providerInvocation?: string
}

/** A failed attempt, or one closed by crash recovery. Never charged. */
export interface FailedEntry extends EntryBase {
  readonly type: 'FUNCTION_FAILED'
  readonly invoked: string
  readonly error: { readonly code: string; readonly message: string }
  /** Whether the request may have reached the provider. */
  readonly sent: boolean
  readonly durationMs: number
  /** Set on entries written by crash recovery when the ledger was reopened. */
  readonly recovered?: true
}

export type LineageEntry = InvokedEntry | CompletedEntry | FailedEntry

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T]
/** `T` with its optional fields also taking `undefined` (a field left undefined is left out of the entry). */
type Lax<T> = Omit<T, OptionalKeys<T>> & { [K in OptionalKeys<T>]?: T[K] | undefined }
/** What a caller gives the ledger for an entry of type `T`: the ledger sets `v`, `type`, `seq`, `prev` and `at`. */
export type EntryFields<T extends LineageEntry> = Lax<Omit<T, 'v' | 'type' | 'seq' | 'prev' | 'at'>>

/** An entry as the ledger stores it: its id (a CID), its canonical bytes and its leaf hash. */
export interface SealedEntry {
  readonly id: string
  readonly seq: number
  readonly bytes: Uint8Array
  readonly entry: LineageEntry
}

/** The content id of any JSON value: a CIDv1 (json, sha2-256) of its RFC 8785 canonical bytes. */
export function contentId(value: unknown): string {
  return recordId(canonicalBytes(value))
}

/** Drops keys whose value is `undefined`, so optional fields never reach the canonical form. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v
  return out as T
}
