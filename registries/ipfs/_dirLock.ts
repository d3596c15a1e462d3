import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** The file that says which process holds a registry directory. */
export const LOCK_FILE = 'fmesh-ipfs.lock'

/**
 * Takes `dir` for this registry object alone: two objects on one directory would each keep their own
 * index and publish roots without each other's records. A lock left by a process that is gone is
 * taken over; one held by a live process (this one included) is refused with its pid.
 * Returns the release function, or the pid that holds the directory.
 */
export async function lockDir(dir: string): Promise<(() => Promise<void>) | { heldBy: number }> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(String(process.pid))
      await handle.close()
      return () => rm(path, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return { heldBy: pid }
    await rm(path, { force: true })
  }
  return { heldBy: Number.NaN }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
