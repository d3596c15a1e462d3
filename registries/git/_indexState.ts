import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import type { IndexEntry, RecordIndex } from './_recordIndex.js'

/** The file in the repository directory that keeps the index across restarts. */
export const INDEX_STATE_FILE = 'fmesh-index.json'

const StateSchema = z.object({
  version: z.literal(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  /** The branch indexed; absent in states saved before it was recorded. */
  branch: z.string().optional(),
  entries: z.record(
    z.string(),
    z.object({
      oid: z.string().regex(/^[0-9a-f]{40}$/),
      seq: z.number().int().min(0),
      id: z.string(),
      path: z.string(),
      commit: z.string().regex(/^[0-9a-f]{40}$/),
      unowned: z.literal(true).optional(),
    }),
  ),
  highest: z.record(z.string(), z.number().int().min(0)),
  /** Highest seqs of records of unowned namespaces; absent in states saved before they were kept apart. */
  unownedHighest: z.record(z.string(), z.number().int().min(0)).optional(),
})

/** Saves of this process so far: part of each temporary file's name. */
let saves = 0

/**
 * Saves the index (accepted blob per name, highest seq per name, the commit it reflects), so a
 * restart resumes with an incremental sync and still refuses records older than any seen before,
 * even when the branch itself was rewritten to hold them.
 *
 * Registry objects and processes sharing the directory all save here. Each save writes a file of
 * its own and renames it into place, so the file is always one whole save (the last renamed),
 * never a mix of two.
 */
export async function saveIndexState(
  gitdir: string,
  at: { commit: string; branch: string },
  index: RecordIndex,
): Promise<void> {
  const state = {
    version: 1,
    commit: at.commit,
    branch: at.branch,
    entries: Object.fromEntries(index.entries),
    highest: Object.fromEntries(index.highest),
    unownedHighest: Object.fromEntries(index.unownedHighest),
  }
  const file = join(gitdir, INDEX_STATE_FILE)
  const tmp = `${file}.${process.pid}.${++saves}.tmp`
  try {
    await writeFile(tmp, JSON.stringify(state))
    await rename(tmp, file)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
}

/**
 * Loads a saved index of `branch` into `index`; returns its commit, or `undefined` when there is no
 * usable state. Whichever writer saved it, the state is one index at the commit it names, and the
 * caller brings it to the branch tip with a diff from that commit (a tree diff: it holds for any
 * commit, behind the tip or not), so the result is the tip's records either way.
 */
export async function loadIndexState(
  gitdir: string,
  branch: string,
  index: RecordIndex,
): Promise<string | undefined> {
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
  // Another branch's highest seqs would refuse this branch's records.
  if (parsed.branch !== undefined && parsed.branch !== branch) return undefined
  for (const [name, { unowned, ...entry }] of Object.entries(parsed.entries))
    index.entries.set(name, (unowned === true ? { ...entry, unowned } : entry) satisfies IndexEntry)
  for (const [name, seq] of Object.entries(parsed.highest)) index.highest.set(name, seq)
  for (const [name, seq] of Object.entries(parsed.unownedHighest ?? {})) index.unownedHighest.set(name, seq)
  return parsed.commit
}
