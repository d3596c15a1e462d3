import * as fs from 'node:fs'
import { ObjectReader } from './_objectReader.js'

/** What every isomorphic-git call needs: the file system, the bare repository, and a shared pack cache. */
export interface GitContext {
  readonly fs: typeof fs
  readonly gitdir: string
  /** isomorphic-git's object cache: keeps pack indexes loaded across calls. */
  readonly cache: object
  /** Fast reads of record blobs (syncs and lookups). */
  readonly objects: ObjectReader
}

export function gitContext(gitdir: string): GitContext {
  return { fs, gitdir, cache: {}, objects: new ObjectReader(gitdir) }
}
