import type { UnixFS } from '@helia/unixfs'
import type { CID } from 'multiformats/cid'
import { RegistryError } from '../../src/errors/registry.js'

export interface PutAtPath {
  fs: UnixFS
  root: CID
  segments: readonly string[]
  file: CID
  shardSplitThresholdBytes: number
  registry: string
  /** Directory CIDs under `root` already known, by path (`acme.com/image`): no walk to find them. */
  known: ReadonlyMap<string, CID>
}

/** What a put made: the new root, and the new CID of each directory on the path, by path. */
export interface PutResult {
  root: CID
  dirs: Map<string, CID>
}

/** Puts `file` at `segments` under `root`, making missing directories. */
export async function putAtPath(put: PutAtPath): Promise<PutResult> {
  const { fs, segments } = put
  const options = { force: true, offline: true, shardSplitThresholdBytes: put.shardSplitThresholdBytes }
  const pathOf = (depth: number) => segments.slice(0, depth).join('/')
  // The directories from the root down to the file's parent, as they are now.
  const dirs: CID[] = [put.root]
  for (let depth = 1; depth < segments.length; depth++) {
    const known = put.known.get(pathOf(depth))
    if (known !== undefined) {
      dirs.push(known)
      continue
    }
    const segment = segments[depth - 1]!
    const found = await statOrUndefined(fs, dirs.at(-1)!, segment)
    if (found !== undefined && found.type !== 'directory') {
      throw new RegistryError(
        put.registry,
        `publish at ${segments.join('/')}`,
        `${segment} is a record file, not a directory`,
      )
    }
    dirs.push(found?.cid ?? (await fs.addDirectory({}, { offline: true } as never)))
  }
  // Then each changed directory back up to the root: one HAMT entry per level.
  const made = new Map<string, CID>()
  let child = put.file
  for (let i = segments.length - 1; i >= 0; i--) {
    child = await fs.cp(child, dirs[i]!, segments[i]!, options)
    if (i > 0) made.set(pathOf(i), child)
  }
  return { root: child, dirs: made }
}

async function statOrUndefined(fs: UnixFS, dir: CID, name: string) {
  try {
    return await fs.stat(dir, { path: name, offline: true })
  } catch (err) {
    if ((err as Error).name === 'NotFoundError' || (err as Error).name === 'DoesNotExistError')
      return undefined
    throw err
  }
}

/** Every file under `dir`, with its path segments. */
export async function* walkFiles(
  fs: UnixFS,
  dir: CID,
  prefix: readonly string[] = [],
): AsyncGenerator<{ segments: string[]; cid: CID }> {
  for await (const entry of fs.ls(dir, { offline: true })) {
    const segments = [...prefix, entry.name]
    // Records are raw blocks; a dag-pb entry is a directory (or a file someone else added).
    const isDir =
      entry.cid.code === 0x70 && (await fs.stat(entry.cid, { offline: true })).type === 'directory'
    if (isDir) yield* walkFiles(fs, entry.cid, segments)
    else yield { segments, cid: entry.cid }
  }
}
