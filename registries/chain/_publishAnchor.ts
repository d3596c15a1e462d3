import { getAddress, hexlify, sha256, toUtf8Bytes, ZeroAddress } from 'ethers'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import { isMeshError } from '../../src/errors/base.js'
import { PublishConflictError } from '../../src/errors/registry.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { checkEncodedRecord } from '../../src/registry/checkEncodedRecord.js'
import type { AbortOptions, ContentStore, PublishReceipt } from '../../src/registry/types.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import type { ChainEvents } from './_chainEvents.js'
import type { ChainConfig } from './_checkChainInit.js'
import type { Connection } from './_connection.js'
import { lookupCall } from './_lookupCall.js'
import { POINTER_CID, POINTER_INLINE, putPointer } from './_pointers.js'
import type { Transactions } from './_transactions.js'
import { ChainNoSignerError, ChainRecordTooLargeError, NotNamespaceOwnerError } from './errors.js'
import { versionSetDigest } from './versionSetDigest.js'

/** The most canonical bytes an anchor holds inline (the contract's MAX_INLINE_LENGTH). */
export const MAX_INLINE_RECORD_BYTES = 4096

/** A connection with its event follower, as the registry opens it once. */
export interface Ready {
  conn: Connection
  events: ChainEvents
}

/** What publishing needs from the registry that owns the connection. */
export interface PublishContext {
  readonly id: string
  readonly address: string
  readonly cfg: ChainConfig
  readonly verifier: RecordVerifier
  readonly transactions: Transactions
  /** The content store CID pointers go to, if one is configured. */
  store(): ContentStore | undefined
  ready(options?: AbortOptions): Promise<Ready>
  /** The namespace's current owner address, or undefined when unclaimed. */
  ownerOf(namespace: string): Promise<string | undefined>
}

/** The signer's checksummed address, or `E_CHAIN_NO_SIGNER` naming the operation that needed it. */
export async function signerAccount(id: string, conn: Connection, operation: string): Promise<string> {
  if (conn.signer === undefined) throw new ChainNoSignerError(id, operation)
  return getAddress(await conn.signer.getAddress())
}

/**
 * Anchors one record: checks it (integrity, name, signer when the namespace is known) before any gas
 * is spent, claims the namespace first when `autoClaim` allows, puts the bytes in the content store
 * before an anchor can name their CID, and sends the publish transaction. Re-publishing the anchored
 * bytes is a no-op; an older or equal seq with other bytes is `E_PUBLISH_CONFLICT`.
 */
export async function publishAnchor(
  ctx: PublishContext,
  encoded: EncodedRecord,
  options: AbortOptions = {},
): Promise<PublishReceipt> {
  const signal = options.signal
  throwIfAborted(signal, `${ctx.id} publish`)
  const name = checkEncodedRecord(encoded, ctx.id)
  const { record, bytes } = await ctx.verifier.verify(encoded.bytes, {
    origin: `${ctx.id} publish`,
    expectName: name,
    allowExpired: true,
    unowned: 'integrity',
    ...(signal === undefined ? {} : { signal }),
  })
  const store = ctx.store()
  const byCid =
    ctx.cfg.pointer === 'cid' ||
    (ctx.cfg.pointer === 'auto' && store !== undefined && bytes.byteLength > MAX_INLINE_RECORD_BYTES)
  if (!byCid && bytes.byteLength > MAX_INLINE_RECORD_BYTES)
    throw new ChainRecordTooLargeError(name, bytes.byteLength, MAX_INLINE_RECORD_BYTES)
  const { conn } = await ctx.ready(options)
  const account = await signerAccount(ctx.id, conn, 'publish')
  const namespace = record.namespace
  const digest = sha256(bytes)
  const current = await raceSignal(lookupCall(conn, ctx.id, name), signal, `${ctx.id} publish`)
  const location = (block: bigint | number) => `chain:${conn.chainId}/${ctx.address}@${block}`
  if (current.anchor.seq >= BigInt(record.seq)) {
    if (current.anchor.seq === BigInt(record.seq) && current.anchor.recordDigest === digest)
      return { registry: ctx.id, location: location(current.anchor.updatedAtBlock) }
    throw new PublishConflictError(ctx.id, name, record.seq, Number(current.anchor.seq))
  }
  if (current.owner === ZeroAddress) {
    if (!ctx.cfg.autoClaim) throw new NotNamespaceOwnerError(namespace, account, undefined)
    await claimOnce(ctx, namespace, account, signal)
  } else if (current.owner !== account) throw new NotNamespaceOwnerError(namespace, account, current.owner)
  const pointer = byCid
    ? {
        kind: POINTER_CID,
        data: hexlify(toUtf8Bytes(await putPointer(ctx.id, store!, name, bytes, signal))),
      }
    : { kind: POINTER_INLINE, data: hexlify(bytes) }
  const tx = await ctx.transactions.send(
    await ctx.ready(),
    { registry: ctx.id, operation: `publish ${name}`, namespace, account, name, seq: record.seq },
    (contract) =>
      contract.getFunction('publish')(
        name,
        record.seq,
        digest,
        versionSetDigest(record),
        pointer.kind,
        pointer.data,
      ),
    signal,
  )
  return { registry: ctx.id, location: location(tx.blockNumber) }
}

/** Claims for `account`; a claim that lost a race to this same account counts as done. */
async function claimOnce(
  ctx: PublishContext,
  namespace: string,
  account: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await ctx.transactions.send(
      await ctx.ready(),
      { registry: ctx.id, operation: `claim ${namespace}`, account },
      (c) => c.getFunction('claim')(namespace),
      signal,
    )
  } catch (err) {
    if (
      !(isMeshError(err, 'E_CHAIN_REVERT') && (err as { errorName?: string }).errorName === 'AlreadyClaimed')
    )
      throw err
    const owner = await ctx.ownerOf(namespace)
    if (owner !== account) throw new NotNamespaceOwnerError(namespace, account, owner, err)
  }
}
