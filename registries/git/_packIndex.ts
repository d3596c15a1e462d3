import { createHash, hash } from 'node:crypto'
import { crc32, inflateSync } from 'node:zlib'
import { LRUCache } from 'lru-cache'

/**
 * Indexes a Git pack file (v2 or v3) with zlib's and OpenSSL's native inflate, SHA-1 and CRC-32: it
 * checks the pack's trailing checksum, inflates and hashes every object (resolving ofs- and
 * ref-deltas), and returns the pack's idx v2 file, byte for byte what `git index-pack` writes for the
 * same pack. A corrupt or truncated pack, or a thin one (a delta whose base is not in the pack), throws
 * an Error named `PackIndexError` that says where.
 *
 * Why not only isomorphic-git's `GitPackIndex.fromPack`, which its fetch runs anyway: it inflates
 * with pako and awaits a WebCrypto digest per object, so on the bench machine indexing the ~21,000
 * objects of a 10,000-record clone took ~0.9 s of wall time (~0.38 s of it CPU). This takes
 * ~0.25 s (~0.3-0.4 s of CPU beside a sync) on a thread of its own (see `_indexPackOffThread.ts`), so
 * the registry reads the fetched records while that fetch is still indexing them.
 */
/**
 * Largest object a pack may hold (inflated, or the result of a delta), checked before it is
 * inflated or allocated: a remote controls every byte of a pack, and a delta or zlib stream may
 * claim gigabytes from a few bytes. A records repository's largest objects are trees (~60 bytes an
 * entry, so ~4 million records in one folder fit). @default 268435456 (256 MiB)
 */
export const MAX_PACK_OBJECT_BYTES = 256 * 1024 * 1024

/**
 * zlib's output chunk for an object of `size` inflated bytes: the default 16 KiB chunk per object
 * (most are deltas of a few hundred bytes) was most of the allocations and the collector's work.
 */
function chunkFor(size: number): number {
  return Math.min(64 * 1024, Math.max(64, size + 64))
}

export function indexPack(pack: Buffer): Buffer {
  return indexPackWithFiles(pack).idx
}

/** The blob files under a folder of a commit's tree, as {@link indexPackWithFiles} gathers them. */
export interface PackFiles {
  /** Slash-separated paths from the tree's root, e.g. `records/acme.com/image/sharpen.json`. */
  readonly paths: string[]
  /** Their blob ids (hex). */
  readonly oids: string[]
  /** Their contents, one after another, ending at `ends[i]`. */
  readonly data: Buffer
  readonly ends: number[]
}

/** Which files {@link indexPackWithFiles} should also return: blobs under `dir` ending in `suffix`. */
export interface WantedFiles {
  /** The commit (hex id) whose tree to walk. */
  readonly commit: string
  readonly dir: string
  readonly suffix: string
}

/**
 * {@link indexPack}, and, when `want` names a commit in the pack, the contents of the blob files
 * under a folder of its tree (what a first sync reads next; the objects are at hand here). `files` is
 * undefined when the commit or a tree under the folder is not in the pack.
 */
export function indexPackWithFiles(
  pack: Buffer,
  want?: WantedFiles,
): { idx: Buffer; files: PackFiles | undefined } {
  /** Inflated objects kept as delta bases; a base pushed out is inflated again. 64 MiB. */
  const cacheBytes = 64 * 1024 * 1024
  /** Offsets from here on go to the idx's 8-byte table. */
  const largeOffset = 0x80000000
  const typeNames = ['', 'commit', 'tree', 'blob', 'tag']
  const ofsDelta = 6
  const refDelta = 7
  const fail = (message: string): never => {
    const error = new Error(message)
    error.name = 'PackIndexError'
    throw error
  }
  interface Entry {
    readonly offset: number
    /** Where the zlib stream starts (after the header and any delta base reference). */
    readonly dataStart: number
    readonly type: number
    /** ofs-delta: the base's offset. */
    readonly baseOffset: number
    /** ref-delta: the base's id, as a latin1 string of its 20 bytes. */
    readonly baseId: string
    readonly crc: number
    /** Inflated bytes, from the header. */
    readonly size: number
    /** The object's id (latin1 string of its 20 bytes) and type, once known. */
    id: string
    kind: number
  }

  // Inflated data by offset (objects, and raw deltas apart), the least recently used dropped past
  // the budget. (A Map scanned from its oldest entry to evict was quadratic: V8 keeps a deleted
  // entry's slot until the table is rebuilt, so every scan stepped over all the earlier deletions;
  // 15 s of a 100,000-record pack.)
  const cache = new LRUCache<string, Buffer>({
    maxSize: cacheBytes,
    maxEntrySize: cacheBytes / 4,
    sizeCalculation: (data) => Math.max(1, data.byteLength),
  })
  const remember = (key: string, data: Buffer): void => {
    if (data.byteLength > cacheBytes / 4 || cache.has(key)) return
    cache.set(key, data)
  }
  const objectId = (type: number, data: Buffer): string =>
    hash(
      'sha1',
      Buffer.concat([Buffer.from(`${typeNames[type]} ${data.byteLength}\0`, 'latin1'), data]),
      'binary',
    )
  const applyDelta = (base: Buffer, delta: Buffer, at: number): Buffer => {
    let pos = 0
    const varint = (): number => {
      let value = 0
      let scale = 1
      let byte: number
      do {
        if (pos >= delta.length) fail(`object at ${at}: delta is truncated`)
        byte = delta[pos++]!
        value += (byte & 0x7f) * scale
        scale *= 128
      } while (byte & 0x80)
      return value
    }
    if (varint() !== base.byteLength) fail(`object at ${at}: delta does not apply to its base (size)`)
    const resultSize = varint()
    if (resultSize > MAX_PACK_OBJECT_BYTES)
      fail(`object at ${at}: delta result of ${resultSize} bytes is over ${MAX_PACK_OBJECT_BYTES}`)
    // A dry pass first: the instructions must make exactly that many bytes before any is allocated.
    const opsAt = pos
    let total = 0
    while (pos < delta.length) {
      const op = delta[pos++]!
      if (op & 0x80) {
        let size = 0
        for (let i = 0; i < 4; i++) if (op & (1 << i)) pos++
        for (let i = 0; i < 3; i++) if (op & (0x10 << i)) size |= (delta[pos++] ?? 0) << (8 * i)
        total += size === 0 ? 0x10000 : size
      } else if (op > 0) {
        total += op
        pos += op
      } else fail(`object at ${at}: delta has a reserved instruction`)
      if (total > resultSize) fail(`object at ${at}: delta copies outside its base or result`)
    }
    if (pos > delta.length) fail(`object at ${at}: delta is truncated`)
    if (total !== resultSize) fail(`object at ${at}: delta result has the wrong size`)
    pos = opsAt
    const out = Buffer.allocUnsafe(resultSize)
    let written = 0
    while (pos < delta.length) {
      const op = delta[pos++]!
      if (op & 0x80) {
        let offset = 0
        let size = 0
        for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[pos++]! * 2 ** (8 * i)
        for (let i = 0; i < 3; i++) if (op & (0x10 << i)) size |= delta[pos++]! << (8 * i)
        if (size === 0) size = 0x10000
        if (offset + size > base.byteLength || written + size > out.byteLength)
          fail(`object at ${at}: delta copies outside its base or result`)
        base.copy(out, written, offset, offset + size)
        written += size
      } else if (op > 0) {
        if (pos + op > delta.length || written + op > out.byteLength)
          fail(`object at ${at}: delta inserts past its end or result`)
        delta.copy(out, written, pos, pos + op)
        written += op
        pos += op
      } else fail(`object at ${at}: delta has a reserved instruction`)
    }
    if (written !== out.byteLength) fail(`object at ${at}: delta result has the wrong size`)
    return out
  }

  if (pack.byteLength < 32 || pack.toString('latin1', 0, 4) !== 'PACK')
    fail('not a pack file (no PACK header)')
  const version = pack.readUInt32BE(4)
  if (version !== 2 && version !== 3) fail(`unsupported pack version ${version}`)
  const count = pack.readUInt32BE(8)
  const end = pack.byteLength - 20
  const checksum = pack.subarray(end)
  if (!createHash('sha1').update(pack.subarray(0, end)).digest().equals(checksum))
    fail('pack checksum mismatch (truncated or corrupt)')

  const entries: Entry[] = new Array(count)
  const byOffset = new Map<number, Entry>()
  const byId = new Map<string, Entry>()
  const claim = (entry: Entry): void => {
    if (byId.has(entry.id))
      fail(`object ${Buffer.from(entry.id, 'latin1').toString('hex')} is in the pack twice`)
    byId.set(entry.id, entry)
  }
  let pos = 12
  for (let i = 0; i < count; i++) {
    if (pos >= end) fail(`pack ends after ${i} of ${count} objects`)
    const offset = pos
    let byte = pack[pos++]!
    const type = (byte >> 4) & 7
    let size = byte & 15
    let scale = 16
    while (byte & 0x80) {
      byte = pack[pos++]!
      size += (byte & 0x7f) * scale
      scale *= 128
    }
    let baseOffset = -1
    let baseId = ''
    if (type === ofsDelta) {
      byte = pack[pos++]!
      let back = byte & 0x7f
      while (byte & 0x80) {
        byte = pack[pos++]!
        back = (back + 1) * 128 + (byte & 0x7f)
      }
      baseOffset = offset - back
      if (baseOffset < 12) fail(`object at ${offset}: delta base before the start of the pack`)
    } else if (type === refDelta) {
      baseId = pack.toString('latin1', pos, pos + 20)
      pos += 20
    } else if (type < 1 || type > 4) fail(`object at ${offset}: invalid type ${type}`)
    const dataStart = pos
    if (!(size <= MAX_PACK_OBJECT_BYTES))
      fail(`object at ${offset}: ${size} bytes is over the ${MAX_PACK_OBJECT_BYTES} byte object limit`)
    let data: Buffer
    try {
      // Never more than the header says: a stream that inflates past it stops here (a zlib bomb).
      const inflated = inflateSync(pack.subarray(pos, end), {
        info: true,
        maxOutputLength: Math.max(1, size),
        chunkSize: chunkFor(size),
      }) as unknown as {
        buffer: Buffer
        engine: { bytesWritten: number }
      }
      data = inflated.buffer
      pos += inflated.engine.bytesWritten
    } catch (err) {
      return fail(`object at ${offset}: ${(err as Error).message}`)
    }
    if (data.byteLength !== size)
      fail(`object at ${offset}: inflated to ${data.byteLength} bytes, its header says ${size}`)
    const entry: Entry = {
      offset,
      dataStart,
      type,
      baseOffset,
      baseId,
      crc: crc32(pack.subarray(offset, pos)),
      size,
      id: '',
      kind: 0,
    }
    entries[i] = entry
    byOffset.set(offset, entry)
    if (type < ofsDelta) {
      entry.kind = type
      entry.id = objectId(type, data)
      remember(`o${offset}`, data)
      claim(entry)
    } else remember(`d${offset}`, data)
  }
  if (pos !== end) fail(`${end - pos} unexpected bytes after the last object`)

  const baseOf = (entry: Entry): Entry | undefined => {
    if (entry.type === ofsDelta) {
      const base = byOffset.get(entry.baseOffset)
      if (base === undefined) fail(`object at ${entry.offset}: no object at its delta base offset`)
      return base
    }
    return byId.get(entry.baseId)
  }
  const inflate = (entry: Entry): Buffer =>
    inflateSync(pack.subarray(entry.dataStart, end), { chunkSize: chunkFor(entry.size) })
  const resolve = (entry: Entry, depth: number): Buffer => {
    const hit = cache.get(`o${entry.offset}`)
    if (hit !== undefined) return hit
    if (entry.type < ofsDelta) {
      const data = inflate(entry)
      remember(`o${entry.offset}`, data)
      return data
    }
    if (depth > 10_000) fail(`object at ${entry.offset}: delta chain too deep`)
    const base = baseOf(entry)!
    const baseData = resolve(base, depth + 1)
    const data = applyDelta(baseData, cache.get(`d${entry.offset}`) ?? inflate(entry), entry.offset)
    entry.kind = base.kind
    cache.delete(`d${entry.offset}`)
    remember(`o${entry.offset}`, data)
    return data
  }
  // Deltas are resolved from their bases down, as `git index-pack` does: each base's children right
  // after it, while its data is at hand, so no chain is rebuilt. (Resolving each delta in pack order
  // through the cache rebuilt evicted chains: ~490,000 inflations for the 110,000 objects of a
  // 100,000-record pack.)
  const ofsChildren = new Map<number, Entry[]>()
  const refChildren = new Map<string, Entry[]>()
  for (const entry of entries) {
    const [map, key] =
      entry.type === ofsDelta
        ? [ofsChildren, entry.baseOffset]
        : entry.type === refDelta
          ? [refChildren, entry.baseId]
          : []
    if (map === undefined) continue
    const list = (map as Map<number | string, Entry[]>).get(key!)
    if (list === undefined) (map as Map<number | string, Entry[]>).set(key!, [entry])
    else list.push(entry)
  }
  const stack: { entry: Entry; base: Buffer; depth: number }[] = []
  const pushChildren = (entry: Entry, data: Buffer, depth: number): void => {
    for (const child of ofsChildren.get(entry.offset) ?? []) stack.push({ entry: child, base: data, depth })
    for (const child of refChildren.get(entry.id) ?? []) stack.push({ entry: child, base: data, depth })
    refChildren.delete(entry.id)
  }
  const expand = (root: Entry): void => {
    pushChildren(root, resolve(root, 0), 1)
    while (stack.length > 0) {
      const { entry, base, depth } = stack.pop()!
      if (entry.id !== '') continue
      if (depth > 10_000) fail(`object at ${entry.offset}: delta chain too deep`)
      const delta = cache.get(`d${entry.offset}`) ?? inflate(entry)
      cache.delete(`d${entry.offset}`)
      const data = applyDelta(base, delta, entry.offset)
      entry.kind = baseOf(entry)!.kind
      entry.id = objectId(entry.kind, data)
      claim(entry)
      pushChildren(entry, data, depth + 1)
    }
  }
  for (const entry of entries) if (entry.type < ofsDelta) expand(entry)
  // What is left has no base in the pack (a thin pack), or a chain that never ends in an object.
  for (const entry of entries) {
    if (entry.id !== '') continue
    let at: Entry | undefined = entry
    for (let hops = 0; at !== undefined && at.id === ''; hops++) {
      if (hops > 10_000) fail(`object at ${entry.offset}: delta chain too deep`)
      if (at.type === refDelta && !byId.has(at.baseId))
        fail(`thin pack: delta base ${Buffer.from(at.baseId, 'latin1').toString('hex')} is not in it`)
      at = baseOf(at)
    }
    fail(`object at ${entry.offset}: its delta base was not resolved`)
  }

  // idx v2: magic, version, fanout, sorted ids, CRC-32s, offsets (8-byte ones apart), checksums.
  const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const n = sorted.length
  const large = sorted.filter((e) => e.offset >= largeOffset).length
  const out = Buffer.alloc(8 + 256 * 4 + n * 28 + large * 8 + 40)
  out.writeUInt32BE(0xff744f63, 0)
  out.writeUInt32BE(2, 4)
  const fanout = new Uint32Array(256)
  for (const e of sorted) fanout[e.id.charCodeAt(0)]!++
  let total = 0
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!
    out.writeUInt32BE(total, 8 + i * 4)
  }
  const idsAt = 8 + 256 * 4
  const crcsAt = idsAt + n * 20
  const offsetsAt = crcsAt + n * 4
  const largeAt = offsetsAt + n * 4
  let nextLarge = 0
  sorted.forEach((e, i) => {
    out.write(e.id, idsAt + i * 20, 20, 'latin1')
    out.writeUInt32BE(e.crc >>> 0, crcsAt + i * 4)
    if (e.offset < largeOffset) out.writeUInt32BE(e.offset, offsetsAt + i * 4)
    else {
      out.writeUInt32BE((largeOffset | nextLarge) >>> 0, offsetsAt + i * 4)
      out.writeBigUInt64BE(BigInt(e.offset), largeAt + nextLarge * 8)
      nextLarge++
    }
  })
  const trailer = largeAt + large * 8
  checksum.copy(out, trailer)
  createHash('sha1')
    .update(out.subarray(0, trailer + 20))
    .digest()
    .copy(out, trailer + 20)
  return { idx: out, files: want === undefined ? undefined : gather(want) }

  /** The blobs under `want.dir` of `want.commit`'s tree, or undefined when an object is missing. */
  function gather({ commit, dir, suffix }: WantedFiles): PackFiles | undefined {
    const object = (hex: string, kind: number): Buffer | undefined => {
      const entry = byId.get(Buffer.from(hex, 'hex').toString('latin1'))
      return entry === undefined || entry.kind !== kind ? undefined : resolve(entry, 0)
    }
    const head = object(commit, 1)
    if (head === undefined || head.toString('latin1', 0, 5) !== 'tree ') return undefined
    const files: PackFiles = { paths: [], oids: [], data: Buffer.alloc(0), ends: [] }
    const chunks: Buffer[] = []
    let size = 0
    const walk = (treeHex: string, prefix: string, depth: number): boolean => {
      const tree = object(treeHex, 2)
      if (tree === undefined || depth > 64) return false
      for (let at = 0; at < tree.byteLength; ) {
        const space = tree.indexOf(0x20, at)
        const nul = space < 0 ? -1 : tree.indexOf(0, space)
        if (space < 0 || nul < 0 || nul + 21 > tree.byteLength) return false
        const mode = tree.toString('latin1', at, space)
        const name = tree.toString('utf8', space + 1, nul)
        const oid = tree.toString('hex', nul + 1, nul + 21)
        at = nul + 21
        const path = prefix === '' ? name : `${prefix}/${name}`
        if (mode === '40000' || mode === '040000') {
          if ((prefix !== '' || name === dir) && !walk(oid, path, depth + 1)) return false
        } else if (mode !== '160000' && prefix !== '' && path.endsWith(suffix)) {
          const blob = object(oid, 3)
          if (blob === undefined) return false
          files.paths.push(path)
          files.oids.push(oid)
          chunks.push(blob)
          size += blob.byteLength
          files.ends.push(size)
        }
      }
      return true
    }
    if (!walk(head.toString('latin1', 5, 45), '', 0)) return undefined
    return { ...files, data: Buffer.concat(chunks, size) }
  }
}
