import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { LRUCache } from 'lru-cache'
import { indexPack } from './_packIndex.js'

/** Bytes of inflated objects kept as delta bases. @default 32 MiB */
const BASE_CACHE_BYTES = 32 * 1024 * 1024

const TYPES = ['', 'commit', 'tree', 'blob', 'tag', '', 'ofs_delta', 'ref_delta'] as const

interface Pack {
  readonly name: string
  readonly data: Buffer
  /** The sorted 20-byte object ids of the pack's .idx. */
  readonly ids: Buffer
  readonly offsets: Buffer
  readonly largeOffsets: Buffer
  readonly count: number
  readonly fanout: Uint32Array
}

interface GitObject {
  type: string
  data: Buffer
}

/**
 * Reads objects straight from the repository's pack files (.idx v2 + .pack) and loose objects, with
 * zlib's native inflate and a byte-bounded cache of delta bases. isomorphic-git writes and transfers
 * the objects; this reader serves the hot path (every record blob of a sync, every lookup), where a
 * pure-JS inflate of each delta chain costs ~0.5 ms per blob.
 */
export class ObjectReader {
  private packs: Pack[] | undefined
  private readonly byName = new Map<string, Pack>()
  /** Packs indexed here from their bytes whose .idx may not be written yet (a fetch in progress). */
  private readonly added = new Map<string, Pack>()
  private readonly bases = new LRUCache<string, GitObject>({
    maxSize: BASE_CACHE_BYTES,
    sizeCalculation: (o) => o.data.byteLength + 64,
  })

  constructor(private readonly gitdir: string) {}

  /**
   * Serves the objects of a pack from its bytes before its .idx exists: a fetch writes the .pack,
   * then indexes it; `idx` is its index from {@link indexPack} (computed here when not given), so
   * the objects can be read now. Throws an Error named PackIndexError for a pack it cannot index.
   */
  addPack(packName: string, data: Buffer, idx: Buffer = indexPack(data)): void {
    const name = packName.replace(/\.pack$/, '.idx')
    if (this.byName.has(name)) return
    const pack = parseIdx(name, idx, data)
    this.byName.set(name, pack)
    this.added.set(name, pack)
    if (this.packs !== undefined) this.packs = [...this.packs, pack]
  }

  /** The content of a blob; throws if the object is missing or is not a blob. */
  async readBlob(oid: string): Promise<Uint8Array> {
    const object = await this.read(oid)
    if (object.type !== 'blob') throw new Error(`object ${oid} is a ${object.type}, not a blob`)
    // A copy: callers own what they get, and the cached delta bases stay intact.
    return new Uint8Array(object.data)
  }

  /**
   * Many blobs at once (a first sync's records), each settled on its own in input order: read in
   * pack order, with every object kept as a possible base, so a delta chain is inflated once per
   * sweep rather than once per blob read in path order.
   */
  async readBlobs(oids: readonly string[]): Promise<(Uint8Array | Error)[]> {
    if (this.packs === undefined) this.packs = await this.loadPacks()
    const placed = this.place(oids)
    const out: (Uint8Array | Error)[] = new Array(oids.length)
    for (const { i, pack, offset } of placed) {
      const oid = oids[i]!
      try {
        const object = pack === undefined ? await this.read(oid) : this.readAt(pack, offset, true)
        if (object.type !== 'blob') throw new Error(`object ${oid} is a ${object.type}, not a blob`)
        out[i] = new Uint8Array(object.data)
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err))
      }
    }
    return out
  }

  /**
   * `items` in the order their objects lie in the packs (loose and missing ones last, in input
   * order), so reading them one after another sweeps each pack once.
   */
  async packOrder<T>(items: readonly T[], oidOf: (item: T) => string): Promise<T[]> {
    if (this.packs === undefined) this.packs = await this.loadPacks()
    return this.place(items.map(oidOf)).map(({ i }) => items[i]!)
  }

  private place(oids: readonly string[]): { i: number; pack: Pack | undefined; offset: number }[] {
    const packs = this.packs ?? []
    const placed = oids.map((oid, i) => {
      const id = Buffer.from(oid, 'hex')
      for (let p = 0; p < packs.length; p++) {
        const offset = findOffset(packs[p]!, id)
        if (offset !== undefined) return { i, pack: packs[p], rank: p, offset }
      }
      return { i, pack: undefined, rank: packs.length, offset: i }
    })
    placed.sort((a, b) => a.rank - b.rank || a.offset - b.offset)
    return placed
  }

  async read(oid: string): Promise<GitObject> {
    // Packs first: after a clone or fetch nearly every record blob is packed, and a failed open of
    // the loose path per blob costs more than the index search.
    if (this.packs === undefined) this.packs = await this.loadPacks()
    let found = this.fromPacks(oid, this.packs)
    if (found !== undefined) return found
    const loose = await this.readLoose(oid)
    if (loose !== undefined) return loose
    // A fetch may have added a pack since the last scan.
    this.packs = await this.loadPacks()
    found = this.fromPacks(oid, this.packs)
    if (found === undefined) throw new Error(`object ${oid} is not in the repository`)
    return found
  }

  private fromPacks(oid: string, packs: readonly Pack[]): GitObject | undefined {
    const id = Buffer.from(oid, 'hex')
    for (const pack of packs) {
      const offset = findOffset(pack, id)
      if (offset !== undefined) return this.readAt(pack, offset)
    }
    return undefined
  }

  /**
   * The object at `offset`. Only delta bases are kept in the cache: a sync reads each record blob
   * once, so keeping every one (30 MB for 10,000 records) only kept the garbage collector busy.
   */
  private readAt(pack: Pack, offset: number, asBase = false): GitObject {
    const key = `${pack.name}:${offset}`
    const cached = this.bases.get(key)
    if (cached !== undefined) return cached
    const data = pack.data
    let pos = offset
    let byte = data[pos++]!
    const type = TYPES[(byte >> 4) & 7]!
    while (byte & 0x80) byte = data[pos++]!
    let object: GitObject
    if (type === 'ofs_delta') {
      byte = data[pos++]!
      let back = byte & 0x7f
      while (byte & 0x80) {
        byte = data[pos++]!
        back = ((back + 1) << 7) | (byte & 0x7f)
      }
      const base = this.readAt(pack, offset - back, true)
      object = { type: base.type, data: applyDelta(base.data, inflateSync(data.subarray(pos))) }
    } else if (type === 'ref_delta') {
      const baseId = data.subarray(pos, pos + 20)
      const baseOffset = findOffset(pack, baseId)
      if (baseOffset === undefined)
        throw new Error(`delta base ${baseId.toString('hex')} is outside its pack`)
      const base = this.readAt(pack, baseOffset, true)
      object = { type: base.type, data: applyDelta(base.data, inflateSync(data.subarray(pos + 20))) }
    } else {
      object = { type, data: inflateSync(data.subarray(pos)) }
    }
    if (asBase) this.bases.set(key, object)
    return object
  }

  private async readLoose(oid: string): Promise<GitObject | undefined> {
    let raw: Buffer
    try {
      raw = inflateSync(await readFile(join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2))))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const nul = raw.indexOf(0)
    const type = raw.subarray(0, raw.indexOf(0x20)).toString('latin1')
    return { type, data: raw.subarray(nul + 1) }
  }

  private async loadPacks(): Promise<Pack[]> {
    const dir = join(this.gitdir, 'objects', 'pack')
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      names = []
    }
    const packs: Pack[] = []
    for (const name of names.filter((n) => n.endsWith('.idx')).sort()) {
      let pack = this.byName.get(name)
      if (pack === undefined) {
        const data = await readFile(join(dir, name.replace(/\.idx$/, '.pack'))).catch(() => undefined)
        const idx = await readFile(join(dir, name)).catch(() => undefined)
        // A fetch by another writer sharing the directory may still be writing this pack (isomorphic-git
        // rewrites one it fetches again): skip it until both files are whole, else kept half, it
        // would hide its objects for good.
        if (data === undefined || idx === undefined || !isWholePack(idx, data)) continue
        pack = parseIdx(name, idx, data)
        this.byName.set(name, pack)
      }
      packs.push(pack)
    }
    for (const [name, pack] of this.added) if (!names.includes(name)) packs.push(pack)
    return packs
  }
}

/**
 * Whether an .idx v2 is as long as its object count says, and its pack ends with the checksum the
 * .idx names (the 20 bytes before the .idx's own checksum).
 */
function isWholePack(idx: Buffer, pack: Buffer): boolean {
  if (idx.byteLength < 8 + 256 * 4) return false
  const count = idx.readUInt32BE(8 + 255 * 4)
  if (idx.byteLength < 8 + 256 * 4 + count * 28 + 40 || pack.byteLength < 32) return false
  return pack.subarray(-20).equals(idx.subarray(-40, -20))
}

function parseIdx(name: string, idx: Buffer, data: Buffer): Pack {
  if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2)
    throw new Error('unsupported pack index (not v2)')
  const fanout = new Uint32Array(256)
  for (let i = 0; i < 256; i++) fanout[i] = idx.readUInt32BE(8 + i * 4)
  const count = fanout[255]!
  const idsAt = 8 + 256 * 4
  const offsetsAt = idsAt + count * 20 + count * 4
  return {
    name,
    data,
    count,
    fanout,
    ids: idx.subarray(idsAt, idsAt + count * 20),
    offsets: idx.subarray(offsetsAt, offsetsAt + count * 4),
    largeOffsets: idx.subarray(offsetsAt + count * 4),
  }
}

function findOffset(pack: Pack, id: Buffer): number | undefined {
  const first = id[0]!
  let lo = first === 0 ? 0 : pack.fanout[first - 1]!
  let hi = pack.fanout[first]!
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const cmp = Buffer.compare(pack.ids.subarray(mid * 20, mid * 20 + 20), id)
    if (cmp === 0) {
      const small = pack.offsets.readUInt32BE(mid * 4)
      if ((small & 0x80000000) === 0) return small
      return Number(pack.largeOffsets.readBigUInt64BE((small & 0x7fffffff) * 8))
    }
    if (cmp < 0) lo = mid + 1
    else hi = mid
  }
  return undefined
}

/** Applies a git delta (varint sizes, then copy and insert instructions) to `base`. */
function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0
  const varint = () => {
    let value = 0
    let shift = 0
    let byte: number
    do {
      byte = delta[pos++]!
      value |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80)
    return value
  }
  if (varint() !== base.byteLength) throw new Error('delta does not apply to its base (size mismatch)')
  const out = Buffer.allocUnsafe(varint())
  let at = 0
  while (pos < delta.length) {
    const op = delta[pos++]!
    if (op & 0x80) {
      let offset = 0
      let size = 0
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset |= delta[pos++]! << (8 * i)
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) size |= delta[pos++]! << (8 * i)
      if (size === 0) size = 0x10000
      base.copy(out, at, offset >>> 0, (offset >>> 0) + size)
      at += size
    } else if (op > 0) {
      delta.copy(out, at, pos, pos + op)
      at += op
      pos += op
    } else {
      throw new Error('delta has a reserved instruction')
    }
  }
  if (at !== out.byteLength) throw new Error('delta result has the wrong size')
  return out
}
