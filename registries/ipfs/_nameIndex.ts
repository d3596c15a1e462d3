import { type Datastore, Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { PackedEntries } from './_packedEntries.js'
import { IpfsIndexCorruptError } from './errors.js'

/** What the index holds for one name: the record's CID, its seq and its record id. */
export interface IndexEntry {
  readonly cid: CID
  readonly seq: number
  readonly id: string
}

/** The root the index reflects and the IPNS sequence it was published under. */
export interface RootState {
  readonly root: CID
  readonly ipnsSequence: bigint
  /** When that sequence was published (the mesh clock, ms); absent in an index saved before it was kept. */
  readonly publishedAt?: number
}

const EntrySchema = z.strictObject({ cid: z.string(), seq: z.number().int().min(0), id: z.string() })
const RootSchema = z.strictObject({
  root: z.string(),
  ipnsSequence: z.string().regex(/^\d+$/),
  publishedAt: z.number().optional(),
})

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex')
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * The registry's own name -> CID index, in memory for lookups and `list`, one datastore key per
 * name so a publish writes two small keys, however many names the registry holds.
 */
export class NameIndex {
  readonly entries = new PackedEntries()
  /** The datastore prefix this registry's index lives under. */
  readonly prefix: string
  private readonly rootKey: Key

  constructor(
    private readonly datastore: Datastore,
    private readonly registry: string,
  ) {
    this.prefix = `/fmesh-ipfs/${hex(registry)}`
    this.rootKey = new Key(`${this.prefix}/root`)
  }

  private nameKey(name: string): Key {
    return new Key(`${this.prefix}/names/${hex(name)}`)
  }

  /** Loads the saved index; undefined when there is none (a new registry, or a removed index). */
  async load(): Promise<RootState | undefined> {
    this.entries.clear()
    if (!(await this.datastore.has(this.rootKey))) return undefined
    const state = this.parse(this.rootKey.toString(), await this.datastore.get(this.rootKey), RootSchema)
    for await (const { key, value } of this.datastore.query({ prefix: `${this.prefix}/names` })) {
      const name = Buffer.from(key.baseNamespace(), 'hex').toString('utf8')
      const entry = this.parse(key.toString(), value, EntrySchema)
      // Parsed to check it; held as the parsed CID's own text (the same text for what save wrote).
      this.entries.setText(name, this.cid(key.toString(), entry.cid).toString(), entry.seq, entry.id)
    }
    return {
      root: this.cid(this.rootKey.toString(), state.root),
      ipnsSequence: BigInt(state.ipnsSequence),
      ...(state.publishedAt === undefined ? {} : { publishedAt: state.publishedAt }),
    }
  }

  /** Saves changed names and the new root in one batch, then updates the in-memory map. */
  async save(changes: ReadonlyMap<string, IndexEntry>, state: RootState): Promise<void> {
    const batch = this.datastore.batch()
    for (const [name, entry] of changes) {
      const value = { cid: entry.cid.toString(), seq: entry.seq, id: entry.id }
      batch.put(this.nameKey(name), encoder.encode(JSON.stringify(value)))
    }
    const root = {
      root: state.root.toString(),
      ipnsSequence: String(state.ipnsSequence),
      ...(state.publishedAt === undefined ? {} : { publishedAt: state.publishedAt }),
    }
    batch.put(this.rootKey, encoder.encode(JSON.stringify(root)))
    await batch.commit()
    for (const [name, entry] of changes) this.entries.set(name, entry)
  }

  /** Replaces the whole saved index (after a rebuild from the IPNS root). */
  async replace(entries: ReadonlyMap<string, IndexEntry>, state: RootState): Promise<void> {
    const batch = this.datastore.batch()
    for await (const key of this.datastore.queryKeys({ prefix: `${this.prefix}/names` })) batch.delete(key)
    await batch.commit()
    this.entries.clear()
    await this.save(entries, state)
  }

  private parse<T>(key: string, bytes: Uint8Array, schema: z.ZodType<T>): T {
    let value: unknown
    try {
      value = JSON.parse(decoder.decode(bytes))
    } catch (err) {
      throw new IpfsIndexCorruptError(this.registry, key, 'not JSON', err)
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new IpfsIndexCorruptError(
        this.registry,
        key,
        `${issue.path.join('.') || 'value'}: ${issue.message}`,
      )
    }
    return parsed.data
  }

  private cid(key: string, text: string): CID {
    try {
      return CID.parse(text)
    } catch (err) {
      throw new IpfsIndexCorruptError(this.registry, key, `${JSON.stringify(text)} is not a CID`, err)
    }
  }
}
