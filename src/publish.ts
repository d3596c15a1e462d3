import { throwIfAborted } from './abort.js'
import type { Clock } from './clock.js'
import { isMeshError } from './errors/base.js'
import { RecordSchemaError } from './errors/record.js'
import { PublishIncompleteError, RegistryUnknownError } from './errors/registry.js'
import { normalizeRecordName, parseFunctionName } from './name.js'
import type { FunctionRecord, RecordDraft } from './record/schema.js'
import { signRecord } from './record/signRecord.js'
import { federatedLookup } from './registry/federatedLookup.js'
import type { PublishReceipt, Registry } from './registry/types.js'
import type { RecordVerifier } from './trust/RecordVerifier.js'
import type { SeqLedger } from './trust/SeqLedger.js'
import type { Signer } from './trust/signer.js'
import type { AbortOptions } from './trust/types.js'

/** `ttlSeconds` of a published record that does not set it. @default 300 */
export const DEFAULT_RECORD_TTL_SECONDS = 300
/** Lifetime of a published record that does not set `expiresAt`. @default 2592000 (30 days) */
export const DEFAULT_RECORD_LIFETIME_SECONDS = 30 * 24 * 3600

export interface PublishOptions extends AbortOptions {
  /** A publisher key of the record's namespace. */
  signer: Signer
  /** Registry ids to write to. @default every registry of the mesh */
  to?: string | readonly string[]
}

export interface PublishResult {
  readonly name: string
  /** CIDv1 of the signed record's canonical bytes. */
  readonly id: string
  readonly seq: number
  readonly record: FunctionRecord
  readonly bytes: Uint8Array
  readonly receipts: readonly PublishReceipt[]
}

/** What `publishRecord` needs from the mesh. */
export interface PublishContext {
  registries: readonly Registry[]
  verifier: RecordVerifier
  seqLedger: SeqLedger
  clock: Clock
  lookupTimeoutMs: number | undefined
  defaultLifetimeSeconds: number | undefined
  defaultTtlSeconds: number | undefined
  invalidate(name: string): void
}

/**
 * Fills the envelope (`namespace`, `seq`, `issuedAt`, `ttlSeconds`, `expiresAt`), signs, checks the
 * result exactly as a reader would (so a key that does not own the namespace fails here, before any
 * write), writes to the target registries, and drops the name from the local cache.
 */
export async function publishRecord(
  draft: RecordDraft,
  options: PublishOptions,
  ctx: PublishContext,
): Promise<PublishResult> {
  throwIfAborted(options.signal, 'publish')
  if (draft === null || typeof draft !== 'object') throw new RecordSchemaError('', 'expected a record object')
  if (options?.signer === undefined || typeof options.signer.sign !== 'function') {
    throw new RecordSchemaError('', 'publish needs options.signer (see generateSigner or `fmesh keys new`)')
  }
  const targets = pickTargets(ctx.registries, options.to)
  let name: string
  try {
    name = normalizeRecordName(String(draft.name))
  } catch (err) {
    throw new RecordSchemaError('name', (err as Error).message.split('\n')[0]!)
  }
  const now = ctx.clock.now()
  const issuedAt = draft.issuedAt ?? new Date(now).toISOString()
  const lifetime = ctx.defaultLifetimeSeconds ?? DEFAULT_RECORD_LIFETIME_SECONDS
  const seq = draft.seq ?? (await nextSeq(name, targets, ctx, options.signal))
  const encoded = await signRecord(
    {
      ...draft,
      name,
      namespace: draft.namespace ?? parseFunctionName(name).namespace,
      seq,
      issuedAt,
      ttlSeconds: draft.ttlSeconds ?? ctx.defaultTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS,
      expiresAt: draft.expiresAt ?? new Date(Date.parse(issuedAt) + lifetime * 1000).toISOString(),
      signatures: draft.signatures ?? [],
    },
    options.signer,
  )
  await ctx.verifier.verify(encoded.bytes, { origin: 'publish', expectName: name })
  throwIfAborted(options.signal, 'publish')

  const settled = await Promise.allSettled(
    targets.map((registry) => registry.publish(encoded, options.signal ? { signal: options.signal } : {})),
  )
  ctx.invalidate(name)
  const receipts: PublishReceipt[] = []
  const failed: { registry: string; code: string; error: unknown }[] = []
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') receipts.push(outcome.value)
    else {
      const error = outcome.reason
      failed.push({ registry: targets[i]!.id, code: isMeshError(error) ? error.code : 'E_REGISTRY', error })
    }
  })
  if (receipts.length > 0) ctx.seqLedger.accept(name, seq)
  if (failed.length === 1 && receipts.length === 0) throw failed[0]!.error
  if (failed.length > 0) {
    throw new PublishIncompleteError(
      name,
      receipts.map((r) => r.registry),
      failed,
      failed[0]!.error,
    )
  }
  return { name, id: encoded.id, seq, record: encoded.record, bytes: encoded.bytes, receipts }
}

function pickTargets(
  registries: readonly Registry[],
  to: string | readonly string[] | undefined,
): Registry[] {
  if (to === undefined) {
    if (registries.length === 0) throw new RegistryUnknownError('(none)', [])
    return [...registries]
  }
  const ids = typeof to === 'string' ? [to] : [...to]
  return ids.map((id) => {
    const registry = registries.find((r) => r.id === id)
    if (registry === undefined)
      throw new RegistryUnknownError(
        id,
        registries.map((r) => r.id),
      )
    return registry
  })
}

/** One above the highest seq this mesh accepted or the targets hold (valid records only); 1 for a new name. */
async function nextSeq(
  name: string,
  targets: readonly Registry[],
  ctx: PublishContext,
  signal?: AbortSignal,
): Promise<number> {
  const answer = await federatedLookup(targets, name, {
    verifier: ctx.verifier,
    clock: ctx.clock,
    allowExpired: true,
    ...(ctx.lookupTimeoutMs === undefined ? {} : { timeoutMs: ctx.lookupTimeoutMs }),
    ...(signal === undefined ? {} : { signal }),
  })
  const held = answer.best?.verified.record.seq ?? 0
  const seen = ctx.seqLedger.highest(name) ?? 0
  return Math.max(held, seen) + 1
}
