import type { Helia } from '@helia/interface'
import type { UnixFSComponents } from '@helia/unixfs'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { IpfsDirectoryTooLargeError } from './errors.js'

/** The blocks a piece of UnixFS work read and wrote, seen through a wrapped blockstore. */
export interface BlockTrace {
  readonly blockstore: UnixFSComponents['blockstore']
  readonly read: Map<string, CID>
  readonly written: Map<string, CID>
}

/** Bounds on what a traced walk reads: past either it ends with {@link IpfsDirectoryTooLargeError}. */
export interface WalkLimits {
  readonly registry: string
  /** Names the walk in the error (`<publisher>/<path>`, `rebuild of <root>`). */
  readonly where: string
  /** The largest directory block (dag-pb) read, in bytes. */
  readonly maxDirectoryBytes: number
  /** The most directory blocks the walk reads; undefined for no bound. */
  readonly maxBlocks?: number
}

/**
 * Wraps `helia.blockstore` so that a UnixFS instance over it records every block it reads and writes;
 * with `limits`, a directory block over the size, or one block past the count, ends the walk before
 * UnixFS decodes it.
 */
export function traceBlocks(helia: Helia, limits?: WalkLimits): BlockTrace {
  const read = new Map<string, CID>()
  const written = new Map<string, CID>()
  const inner = helia.blockstore
  let directories = 0
  const bounded = async function* (cid: CID, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (limits === undefined || !isDirectoryBlock(cid)) return yield* chunks
    directories++
    if (limits.maxBlocks !== undefined && directories > limits.maxBlocks)
      throw new IpfsDirectoryTooLargeError(
        limits.registry,
        limits.where,
        'blocks walked',
        directories,
        limits.maxBlocks,
      )
    let size = 0
    for await (const chunk of chunks) {
      size += chunk.byteLength
      if (size > limits.maxDirectoryBytes)
        throw new IpfsDirectoryTooLargeError(
          limits.registry,
          `${limits.where} (directory ${cid})`,
          'block bytes',
          size,
          limits.maxDirectoryBytes,
        )
      yield chunk
    }
  }
  const blockstore: UnixFSComponents['blockstore'] = {
    get: (cid, options) => {
      read.set(cid.toString(), cid)
      return bounded(cid, inner.get(cid, options))
    },
    put: (cid, bytes, options) => {
      written.set(cid.toString(), cid)
      return inner.put(cid, bytes, options)
    },
    has: (cid, options) => inner.has(cid, options),
  }
  return { blockstore, read, written }
}

const isDirectoryBlock = (cid: CID) => cid.code === dagPb.code

async function linksOf(helia: Helia, cid: CID): Promise<CID[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of helia.blockstore.get(cid, { offline: true })) chunks.push(chunk)
  return dagPb.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).Links.map((l) => l.Hash)
}

export async function pinBlock(helia: Helia, cid: CID): Promise<void> {
  if (!(await helia.pins.isPinned(cid))) for await (const _ of helia.pins.add(cid, { depth: 0 })) void _
}

export async function unpinBlock(helia: Helia, cid: CID): Promise<void> {
  // A block pinned by someone else's recursive pin (a shared node) is not a pin of ours to remove.
  if (await helia.pins.isPinned(cid)) for await (const _ of helia.pins.rm(cid)) void _
}

/**
 * Moves the directory pins from the tree a change read to the tree it wrote: each new directory
 * block is pinned on its own (depth 0), and each directory block it replaced is unpinned, so a change
 * costs a few pins however large the tree (a recursive pin of the root would walk all of it). A block
 * it read that the new tree still links (through other blocks it read) stays pinned.
 */
export async function movePins(helia: Helia, trace: BlockTrace): Promise<void> {
  const written = [...trace.written.values()].filter(isDirectoryBlock)
  // Each pin touches only its own block's keys, so they run side by side.
  await Promise.all(written.map((cid) => pinBlock(helia, cid)))
  const kept = new Set<string>()
  const queue: CID[] = (await Promise.all(written.map((cid) => linksOf(helia, cid)))).flat()
  for (let cid = queue.pop(); cid !== undefined; cid = queue.pop()) {
    const key = cid.toString()
    if (!trace.read.has(key) || trace.written.has(key) || kept.has(key)) continue
    kept.add(key)
    if (isDirectoryBlock(cid)) queue.push(...(await linksOf(helia, cid)))
  }
  const replaced = [...trace.read].filter(
    ([key, cid]) => isDirectoryBlock(cid) && !trace.written.has(key) && !kept.has(key),
  )
  await Promise.all(replaced.map(([, cid]) => unpinBlock(helia, cid).catch(() => undefined)))
}
