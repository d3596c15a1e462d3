import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import type { IndexEntry, RecordIndex } from './_recordIndex.js'

/** The file in the repository directory that keeps the index across restarts. */
export const INDEX_STATE_FILE = 'fmesh-index.json'

const StateSchema = z.object({
  version: z.literal(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  entries: z.record(
    z.string(),
    z.object({
      oid: z.string().regex(/^[0-9a-f]{40}$/),
      seq: z.number().int().min(0),
      id: z.string(),
      path: z.string(),
      commit: z.string().regex(/^[0-9a-f]{40}$/),
    }),
  ),
  highest: z.record(z.string(), z.number().int().min(0)),
})

/**
 * Saves the index (accepted blob per name, highest seq per name, the commit it reflects), so a
 * restart resumes with an incremental sync and still refuses records older than any seen before,
 * even when the branch itself was rewritten to hold them.
 */
export async function saveIndexState(gitdir: string, commit: string, index: RecordIndex): Promise<void> {
  const state = {
    version: 1,
    commit,
    entries: Object.fromEntries(index.entries),
    highest: Object.fromEntries(index.highest),
  }
  const file = join(gitdir, INDEX_STATE_FILE)
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(state))
  await rename(tmp, file)
}

/** Loads a saved index into `index`; returns its commit, or `undefined` when there is no usable state. */
export async function loadIndexState(gitdir: string, index: RecordIndex): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(join(gitdir, INDEX_STATE_FILE), 'utf8')
  } catch {
    return undefined
  }
  let parsed: z.infer<typeof StateSchema>
  try {
    parsed = StateSchema.parse(JSON.parse(text))
  } catch {
    return undefined
  }
  for (const [name, entry] of Object.entries(parsed.entries))
    index.entries.set(name, entry satisfies IndexEntry)
  for (const [name, seq] of Object.entries(parsed.highest)) index.highest.set(name, seq)
  return parsed.commit
}
