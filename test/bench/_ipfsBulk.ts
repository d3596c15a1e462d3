import { ipns } from '@helia/ipns'
import { unixfs } from '@helia/unixfs'
import type { CID } from 'multiformats/cid'
import { pinBlock } from '../../registries/ipfs/_dirPins.js'
import { recordSegments } from '../../registries/ipfs/_layout.js'
import { type IndexEntry, NameIndex } from '../../registries/ipfs/_nameIndex.js'
import { DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES, type IpfsRegistry } from '../../registries/ipfs/index.js'
import { recordId } from '../../src/record/codec.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'

/** What a bulk fill made, for the bench to print. */
export interface BulkFill {
  /** The record names in the tree, in the order they were made. */
  names: string[]
  /** The whole fill: building the bytes, the UnixFS import, the IPNS publish and the index save. */
  ms: number
}

/**
 * Fills a started, empty registry (its own node, default id and key) with `size` records in bulk,
 * the tree a publish of each one would have left: one UnixFS import of every record file at its path
 * (the importer shards large directories as the registry's `cp` does), its root published under the
 * registry's IPNS key, and the index saved through `NameIndex` at that sequence. The caller restarts
 * the registry, which then opens on this index as on one its own publishes saved.
 *
 * A record published one by one costs a signature, a verify and a root publish each, minutes for
 * 100,000; here each namespace's template is really signed once and the other names are copies of its
 * bytes under their own name (their own bytes and CID, a stale signature no lookup checks: the
 * registry serves bytes, the mesh above verifies them). Directory blocks are pinned, as publishes pin
 * theirs; record blocks are not (no collection runs in the bench).
 */
export async function bulkFill(
  registry: IpfsRegistry,
  templates: ReadonlyMap<string, EncodedRecord>,
  size: number,
  nameOf: (i: number) => string,
): Promise<BulkFill> {
  const start = performance.now()
  const helia = registry.helia!
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  const texts = new Map([...templates].map(([ns, t]) => [ns, decoder.decode(t.bytes)]))
  const names: string[] = []
  const files: { path: string; content: Uint8Array }[] = []
  for (let i = 0; i < size; i++) {
    const name = nameOf(i)
    const ns = name.split('/')[0]!
    const template = templates.get(ns)!
    const bytes = encoder.encode(texts.get(ns)!.replace(template.record.name, name))
    names.push(name)
    files.push({ path: recordSegments(name, registry.id).join('/'), content: bytes })
  }
  const fs = unixfs(helia)
  const cids = new Map<string, CID>()
  const dirs: CID[] = []
  let root: CID | undefined
  const imported = fs.addAll(files, {
    wrapWithDirectory: true,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    cidVersion: 1,
    shardSplitThresholdBytes: DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES,
  })
  for await (const entry of imported) {
    if (entry.path === '' || entry.path === undefined) root = entry.cid
    else if (entry.cid.code === 0x55) cids.set(entry.path, entry.cid)
    if (entry.cid.code === 0x70) dirs.push(entry.cid)
  }
  for (const dir of dirs) await pinBlock(helia, dir)
  const entries = new Map<string, IndexEntry>()
  for (const [k, name] of names.entries()) {
    const cid = cids.get(files[k]!.path)!
    entries.set(name, { cid, seq: 1, id: recordId(files[k]!.content) })
  }
  const keyName = `function-mesh-registry-${registry.id}`
  const published = await ipns(helia).publish(keyName, root!, { offline: true })
  const index = new NameIndex(helia.datastore, registry.id)
  await index.replace(entries, {
    root: root!,
    ipnsSequence: published.record.sequence ?? 0n,
    publishedAt: Date.now(),
  })
  return { names, ms: performance.now() - start }
}
