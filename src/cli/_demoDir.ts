import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MeshError } from '../errors/base.js'

/** The file `fmesh demo --dir D` leaves in D, so a later run knows D is its own to clear. */
export const DEMO_MARKER = '.fmesh-demo'

/**
 * Makes `dir` ready for a fresh demo run: a new or empty directory is used as is; one a previous
 * demo left (it holds {@link DEMO_MARKER}) is emptied, since the demo's keys are new each run and
 * its registries must start empty; any other directory with files is refused, never cleared.
 */
export async function prepareDemoDir(dir: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') names = []
    else
      throw new MeshError(
        'E_DEMO_DIR_UNUSABLE',
        `Cannot use ${dir} for the demo: ${(err as Error).message}`,
        {
          details: { dir, reason: (err as Error).message },
          hint: 'Give --dir a directory (new or empty) that you can write, or leave --dir out for a temporary one.',
          cause: err,
        },
      )
  }
  if (names.length > 0 && !names.includes(DEMO_MARKER))
    throw new MeshError(
      'E_DEMO_DIR_NOT_EMPTY',
      `${dir} holds files that no demo run made; the demo will not clear it`,
      {
        details: { dir, entries: names.slice(0, 10) },
        hint: 'Give --dir a new or empty directory (a directory a previous demo run used is cleared and reused).',
      },
    )
  // Every entry, not the directory itself (it may be a mount point or the working directory); rm
  // removes a symbolic link, never what it points to.
  for (const name of names) await rm(join(dir, name), { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, DEMO_MARKER),
    'Made by `fmesh demo --dir`: the next demo run with this directory empties it first.\n',
  )
}
