import { rename, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import git from 'isomorphic-git'
import type { GitContext } from './_context.js'
import { indexPackOffThread } from './_indexPackOffThread.js'

/**
 * Told of each pack file a fetch writes, with its bytes, before it is indexed; it may return the
 * pack's idx when it computes one anyway (then the fetch does not index it again).
 */
export type OnPack = (path: string, data: Uint8Array) => Promise<Buffer | undefined> | undefined

const PACK_FILE = /[\\/]objects[\\/]pack[\\/]pack-[0-9a-f]{40}\.pack$/

/** Thrown through isomorphic-git's fetch right after it wrote the fetched pack (see {@link packHandoff}). */
class PackWritten extends Error {
  constructor(
    readonly path: string,
    readonly data: Buffer,
  ) {
    super('pack written; the registry indexes it')
    this.name = 'PackWritten'
  }
}

/** What a fetch through {@link packHandoff}'s `fs` left to do: index the pack it wrote. */
export interface HandedOffPack {
  readonly path: string
  readonly data: Buffer
  /** The commit the fetch wrote to the remote-tracking ref, when it did. */
  readonly tip: string | undefined
}

/**
 * `ctx.fs` for isomorphic-git's fetch that takes the fetched pack over. isomorphic-git's fetch
 * updates the remote-tracking ref, writes the pack, then indexes it in JavaScript (pako's inflate, a
 * WebCrypto digest awaited per object, a fanout table built with 256 passes over every id): 18 s of
 * CPU for a 100,000-record clone, the whole of a first sync. So the write of the pack ends the fetch
 * (a {@link PackWritten} thrown through it, recognised by `taken`), and {@link indexFetchedPack}
 * indexes it natively. The ref's new value is captured as it is written, so the tip is this fetch's
 * even beside another writer in the same directory.
 */
export function packHandoff(
  ctx: GitContext,
  branch: string,
): { fs: GitContext['fs']; taken(err: unknown): HandedOffPack | undefined } {
  const promises = ctx.fs.promises
  const refFile = join(ctx.gitdir, 'refs', 'remotes', 'origin', branch)
  let tip: string | undefined
  const writeFile: typeof promises.writeFile = async (file, data, options) => {
    await promises.writeFile(file, data, options)
    if (typeof file !== 'string') return
    if (file === refFile && typeof data === 'string') tip = data.trim()
    else if (PACK_FILE.test(file) && data instanceof Uint8Array)
      throw new PackWritten(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  }
  const fs = { promises: { ...promises, writeFile } } as unknown as GitContext['fs']
  return {
    fs,
    taken: (err) => (err instanceof PackWritten ? { path: err.path, data: err.data, tip } : undefined),
  }
}

/**
 * Writes the idx of a pack a fetch handed off: the one `onPack` computed, else indexed natively on a
 * worker thread (`_packIndex.ts`, byte for byte `git index-pack`'s), else, when that cannot (a thin
 * pack, no worker), by isomorphic-git's own indexer, which also reports a corrupt pack. The idx is
 * written under a temporary name and renamed, so no reader sees half of it.
 */
export async function indexFetchedPack(
  ctx: GitContext,
  pack: HandedOffPack,
  onPack: OnPack | undefined,
): Promise<void> {
  const idxPath = pack.path.replace(/\.pack$/, '.idx')
  let idx = await onPack?.(pack.path, pack.data)?.catch(() => undefined)
  if (idx === undefined)
    idx = await indexPackOffThread(pack.data).then(
      (r) => r.idx,
      () => undefined,
    )
  if (idx === undefined) {
    await git.indexPack({
      fs: ctx.fs,
      dir: ctx.gitdir,
      gitdir: ctx.gitdir,
      filepath: relativePack(pack.path),
    })
    return
  }
  const temporary = `${idxPath}.${process.pid}.tmp`
  await writeFile(temporary, idx)
  await rename(temporary, idxPath)
  ctx.objects.addPack(basename(pack.path), pack.data, idx)
}

/** The pack's path as isomorphic-git's indexPack takes it: relative to the repository directory. */
function relativePack(path: string): string {
  return join('objects', 'pack', basename(path))
}
