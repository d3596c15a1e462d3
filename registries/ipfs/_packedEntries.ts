import { CID } from 'multiformats/cid'
import type { IndexEntry } from './_nameIndex.js'

/** What is held for one name: the CID as its text, not as a CID object. */
interface Held {
  readonly cid: string
  readonly seq: number
  readonly id: string
}

/**
 * The name index's entries with each CID held as its text rather than as a CID object (whose byte
 * views cost several times the text). A lookup needs the text anyway (the block cache's key and the
 * `ipfs:/ipfs/...` location), so the warm path reads it as it is ({@link PackedEntries.cidText});
 * the other readers get a CID parsed again. Reads as a `Map<string, IndexEntry>` does for what the
 * registry uses.
 */
export class PackedEntries {
  private readonly held = new Map<string, Held>()

  get size(): number {
    return this.held.size
  }

  has(name: string): boolean {
    return this.held.has(name)
  }

  /** The entry for `name`, its CID parsed from the text held. */
  get(name: string): IndexEntry | undefined {
    const held = this.held.get(name)
    return held === undefined ? undefined : { cid: CID.parse(held.cid), seq: held.seq, id: held.id }
  }

  /** The CID text of `name`'s record, without making a CID. */
  cidText(name: string): string | undefined {
    return this.held.get(name)?.cid
  }

  set(name: string, entry: IndexEntry): this {
    this.held.set(name, { cid: entry.cid.toString(), seq: entry.seq, id: entry.id })
    return this
  }

  /** Adds an entry whose CID text was already checked to parse (a load from the datastore). */
  setText(name: string, cid: string, seq: number, id: string): void {
    this.held.set(name, { cid, seq, id })
  }

  keys(): IterableIterator<string> {
    return this.held.keys()
  }

  *entries(): IterableIterator<[string, IndexEntry]> {
    for (const name of this.held.keys()) yield [name, this.get(name)!]
  }

  [Symbol.iterator](): IterableIterator<[string, IndexEntry]> {
    return this.entries()
  }

  clear(): void {
    this.held.clear()
  }
}
