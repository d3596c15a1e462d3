import { verify as verifySignature } from 'node:crypto'
import { canonicalJsonBytes } from '../encoding/canonicalJson.js'
import { jsonCid } from '../encoding/jsonCid.js'
import { publicKeyObject } from '../trust/signer.js'
import { leafHash, verifyInclusionPath } from './merkle.js'

/** Prefixed to what a checkpoint signature covers, so it can never pass for a record signature. */
export const CHECKPOINT_SIGNING_DOMAIN = 'function-mesh/checkpoint/v1\n'

const encoder = new TextEncoder()
const domainBytes = encoder.encode(CHECKPOINT_SIGNING_DOMAIN)

/** A signed statement of the log's size and Merkle root at one moment. */
export interface Checkpoint {
  /** The ledger's id, fixed when the file was created. */
  readonly log: string
  readonly treeSize: number
  /** The RFC 9162 root over the first `treeSize` entries, hex. */
  readonly root: string
  /** Epoch milliseconds. */
  readonly at: number
  /** The `did:key` of the ledger key that signed it. */
  readonly keyId: string
  /** ed25519 signature over the domain prefix and the canonical checkpoint without `signature`, base64url. */
  readonly signature: string
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, 'signature'>): Uint8Array {
  const { log, treeSize, root, at, keyId } = checkpoint
  const body = canonicalJsonBytes({ v: 1, log, treeSize, root, at, keyId })
  const out = new Uint8Array(domainBytes.length + body.length)
  out.set(domainBytes, 0)
  out.set(body, domainBytes.length)
  return out
}

/** Whether a checkpoint's signature is valid for its `keyId` (and, when given, for `expectedKeyId`). */
export function verifyCheckpoint(checkpoint: Checkpoint, expectedKeyId?: string): boolean {
  if (expectedKeyId !== undefined && checkpoint.keyId !== expectedKeyId) return false
  const key = publicKeyObject(checkpoint.keyId)
  if (key === undefined) return false
  try {
    return verifySignature(
      null,
      checkpointPayload(checkpoint),
      key,
      Buffer.from(checkpoint.signature, 'base64url'),
    )
  } catch {
    return false
  }
}

/** What `ledger.proof(entryId)` returns: everything needed to check one entry offline. */
export interface InclusionProof {
  readonly entryId: string
  /** The entry's canonical JSON, exactly as stored and hashed. */
  readonly entry: string
  readonly leafIndex: number
  /** Sibling hashes from the leaf upwards, hex. */
  readonly path: readonly string[]
  /** The signed checkpoint whose root the path leads to. */
  readonly checkpoint: Checkpoint
}

/**
 * Checks an inclusion proof on its own, with no ledger at hand: the entry hashes to the leaf, the path
 * leads from that leaf to the checkpoint's root, and the checkpoint is signed by its key (pass
 * `keyId` to also require a particular ledger key).
 *
 * @example
 * ```ts
 * const proof = await mesh.lineage.proof(result.lineage.completed)
 * verifyInclusion(proof, { keyId: mesh.lineage.keyId }) // true
 * ```
 */
export function verifyInclusion(proof: InclusionProof, options: { keyId?: string } = {}): boolean {
  if (proof === null || typeof proof !== 'object' || typeof proof.entry !== 'string') return false
  const { checkpoint } = proof
  if (checkpoint === null || typeof checkpoint !== 'object') return false
  if (
    !Array.isArray(proof.path) ||
    !proof.path.every((p) => typeof p === 'string' && /^[0-9a-f]{64}$/.test(p))
  )
    return false
  if (typeof checkpoint.root !== 'string' || !/^[0-9a-f]{64}$/.test(checkpoint.root)) return false
  if (!verifyCheckpoint(checkpoint, options.keyId)) return false
  const bytes = encoder.encode(proof.entry)
  if (jsonCid(bytes) !== proof.entryId) return false
  const leaf = leafHash(bytes)
  const path = proof.path.map((p) => new Uint8Array(Buffer.from(p, 'hex')))
  const root = new Uint8Array(Buffer.from(checkpoint.root, 'hex'))
  return verifyInclusionPath(leaf, proof.leafIndex, checkpoint.treeSize, path, root)
}
