import { CID } from 'multiformats/cid'
import { isMeshError } from '../../src/errors/base.js'
import { RegistryError } from '../../src/errors/registry.js'
import type { ContentStore } from '../../src/registry/types.js'
import type { LookupAnswer } from './_lookupCall.js'
import { reasonOf } from './_rpcFailure.js'
import { ChainPointerUnavailableError } from './errors.js'

/** An anchor's `pointerKind`: the pointer is a CID's text (the contract's POINTER_CID). */
export const POINTER_CID = 1n
/** An anchor's `pointerKind`: the pointer is the canonical record bytes (POINTER_INLINE). */
export const POINTER_INLINE = 2n

const signalOf = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { signal })

/** Puts a record's canonical bytes into the content store; returns the CID an anchor names. */
export async function putPointer(
  registry: string,
  store: ContentStore,
  name: string,
  bytes: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    return await store.put(bytes, signalOf(signal))
  } catch (err) {
    if (isMeshError(err)) throw err
    throw new RegistryError(registry, `store ${name} in the content store`, reasonOf(err), err)
  }
}

/**
 * The bytes an anchor's pointer leads to (inline, or fetched by CID from `store`); unchecked, the
 * caller compares their digest with the anchor's. E_CHAIN_POINTER_UNAVAILABLE when they cannot be had.
 */
export async function anchorBytes(
  store: ContentStore | undefined,
  name: string,
  anchor: LookupAnswer['anchor'],
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const raw = Buffer.from(anchor.pointer.slice(2), 'hex')
  if (anchor.pointerKind === POINTER_INLINE) return raw
  if (anchor.pointerKind !== POINTER_CID)
    throw new ChainPointerUnavailableError(name, anchor.pointer, `unknown pointer kind ${anchor.pointerKind}`)
  const cid = raw.toString('utf8')
  if (store === undefined)
    throw new ChainPointerUnavailableError(name, cid, 'no `contentStore` is configured')
  try {
    CID.parse(cid)
  } catch (err) {
    throw new ChainPointerUnavailableError(name, cid, 'the pointer is not a CID', err)
  }
  let bytes: Uint8Array | undefined
  try {
    bytes = await store.get(cid, signalOf(signal))
  } catch (err) {
    if (isMeshError(err, 'E_ABORTED')) throw err
    throw new ChainPointerUnavailableError(name, cid, reasonOf(err), err)
  }
  if (bytes === undefined)
    throw new ChainPointerUnavailableError(name, cid, 'the content store does not hold it')
  return bytes
}
