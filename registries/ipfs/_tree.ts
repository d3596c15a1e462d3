import type { UnixFS } from '@helia/unixfs'
import type { CID } from 'multiformats/cid'
import { RegistryError } from '../../src/errors/registry.js'

/** Puts `file` at `segments` under `root`, making missing directories; returns the new root. */
export async function putAtPath(
  fs: UnixFS,
  root: CID,
  segments: readonly string[],
  file: CID,
  shardSplitThresholdBytes: number,
  registry: string,
): Promise<CID> {
  const options = { force: true, offline: true, shardSplitThresholdBytes }
  // The directories from the root down to the file's parent, as they are now.
  const dirs: CID[] = [root]
  for (const segment of segments.slice(0, -1)) {
    const parent = dirs.at(-1)!
    const found = await statOrUndefined(fs, parent, segment)
    if (found !== undefined && found.type !== 'directory') {
      throw new RegistryError(
        registry,
        `publish at ${segments.join('/')}`,
        `${segment} is a record file, not a directory`,
      )
    }
    dirs.push(found?.cid ?? (await fs.addDirectory({}, { offline: true } as never)))
  }
  // Then each changed directory back up to the root: one HAMT entry per level.
  let child = file
  for (let i = segments.length - 1; i >= 0; i--) child = await fs.cp(child, dirs[i]!, segments[i]!, options)
  return child
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
