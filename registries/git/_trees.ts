import type { TreeEntry } from 'isomorphic-git'
import git from 'isomorphic-git'
import type { GitContext } from './_context.js'
import { isRecordFile, RECORDS_DIR } from './_layout.js'

/** What changed under records/ between two trees: paths to new blob ids, and removed paths. */
export interface TreeDiff {
  readonly upserts: Map<string, string>
  readonly deletes: Set<string>
}

/**
 * The entries of a tree (of a commit's or a tag's tree, peeled as isomorphic-git's readTree does),
 * read with the registry's native object reader: it also serves a pack a fetch is still indexing,
 * and is ~10x faster than readTree on the 1,100 trees of a 10,000-record repository.
 */
async function entries(ctx: GitContext, treeOid: string | undefined): Promise<TreeEntry[]> {
  if (treeOid === undefined) return []
  let oid = treeOid
  for (let peel = 0; ; peel++) {
    const { type, data } = await ctx.objects.read(oid)
    if (type === 'tree') return parseTree(oid, data)
    const header = type === 'commit' ? 'tree ' : type === 'tag' ? 'object ' : undefined
    if (header === undefined || peel > 8 || !data.subarray(0, header.length).equals(Buffer.from(header))) {
      throw new Error(`object ${oid} is a ${type}, not a tree`)
    }
    oid = data.toString('latin1', header.length, header.length + 40)
  }
}

/** Git's tree format: `<octal mode> <name>\0<20-byte id>` per entry. */
function parseTree(oid: string, data: Buffer): TreeEntry[] {
  const out: TreeEntry[] = []
  let at = 0
  while (at < data.byteLength) {
    const space = data.indexOf(0x20, at)
    const nul = space < 0 ? -1 : data.indexOf(0, space)
    if (space < 0 || nul < 0 || nul + 21 > data.byteLength) throw new Error(`tree ${oid} is malformed`)
    let mode = data.toString('latin1', at, space)
    if (mode === '40000') mode = '040000'
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob'
    out.push({
      mode,
      path: data.toString('utf8', space + 1, nul),
      oid: data.toString('hex', nul + 1, nul + 21),
      type,
    })
    at = nul + 21
  }
  return out
}

/** The tree id of `records/` in a commit's tree, if present. */
export async function recordsTreeOf(ctx: GitContext, commitOid: string): Promise<string | undefined> {
  const root = await entries(ctx, commitOid)
  return root.find((e) => e.path === RECORDS_DIR && e.type === 'tree')?.oid
}

/** Every record file under a `records/` tree: path -> blob id. */
export async function listRecordFiles(
  ctx: GitContext,
  recordsTree: string | undefined,
): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (oid: string, prefix: string): Promise<void> => {
    const list = await entries(ctx, oid)
    await Promise.all(
      list.map(async (entry) => {
        const path = `${prefix}/${entry.path}`
        if (entry.type === 'tree') await walk(entry.oid, path)
        else if (entry.type === 'blob' && isRecordFile(path)) out.set(path, entry.oid)
      }),
    )
  }
  if (recordsTree !== undefined) await walk(recordsTree, RECORDS_DIR)
  return out
}

/** Compares two `records/` trees, descending only into subtrees whose ids differ. */
export async function diffRecordTrees(
  ctx: GitContext,
  before: string | undefined,
  after: string | undefined,
): Promise<TreeDiff> {
  const upserts = new Map<string, string>()
  const deletes = new Set<string>()
  const walk = async (a: string | undefined, b: string | undefined, prefix: string): Promise<void> => {
    if (a === b) return
    const [left, right] = await Promise.all([entries(ctx, a), entries(ctx, b)])
    const leftByName = new Map(left.map((e) => [e.path, e]))
    const rightByName = new Map(right.map((e) => [e.path, e]))
    const work: Promise<void>[] = []
    for (const [name, r] of rightByName) {
      const l = leftByName.get(name)
      const path = `${prefix}/${name}`
      if (l !== undefined && l.oid === r.oid && l.type === r.type) continue
      if (r.type === 'tree') {
        work.push(walk(l?.type === 'tree' ? l.oid : undefined, r.oid, path))
        if (l?.type === 'blob' && isRecordFile(path)) deletes.add(path)
      } else if (r.type === 'blob') {
        if (isRecordFile(path)) upserts.set(path, r.oid)
        if (l?.type === 'tree') work.push(walk(l.oid, undefined, path))
      }
    }
    for (const [name, l] of leftByName) {
      if (rightByName.has(name)) continue
      const path = `${prefix}/${name}`
      if (l.type === 'tree') work.push(walk(l.oid, undefined, path))
      else if (l.type === 'blob' && isRecordFile(path)) deletes.add(path)
    }
    await Promise.all(work)
  }
  await walk(before, after, RECORDS_DIR)
  return { upserts, deletes }
}

/** What changed under records/ from commit `previous` (none: every record file) to commit `tip`. */
export async function commitDiff(
  ctx: GitContext,
  previous: string | undefined,
  tip: string,
): Promise<TreeDiff> {
  const after = await recordsTreeOf(ctx, tip)
  if (previous === undefined) return { upserts: await listRecordFiles(ctx, after), deletes: new Set() }
  return diffRecordTrees(ctx, await recordsTreeOf(ctx, previous), after)
}

/** The id of the blob at `path` (slash-separated) in a commit's tree, if there is one. */
export async function blobAtPath(ctx: GitContext, commit: string, path: string): Promise<string | undefined> {
  const segments = path.split('/')
  let tree = commit
  for (let depth = 0; depth < segments.length; depth++) {
    const entry = (await entries(ctx, tree)).find((e) => e.path === segments[depth])
    if (depth === segments.length - 1) return entry?.type === 'blob' ? entry.oid : undefined
    if (entry?.type !== 'tree') return undefined
    tree = entry.oid
  }
  return undefined
}

/** Writes the trees that put `blobOid` at `path` (slash-separated) under `rootTree`; returns the new root id. */
export async function putBlobAtPath(
  ctx: GitContext,
  rootTree: string | undefined,
  path: string,
  blobOid: string,
): Promise<string> {
  const segments = path.split('/')
  const put = async (treeOid: string | undefined, depth: number): Promise<string> => {
    const name = segments[depth]!
    const current = await entries(ctx, treeOid)
    const existing = current.find((e) => e.path === name)
    const rest = current.filter((e) => e.path !== name)
    let entry: TreeEntry
    if (depth === segments.length - 1) {
      entry = { mode: '100644', path: name, oid: blobOid, type: 'blob' }
    } else {
      const child = await put(existing?.type === 'tree' ? existing.oid : undefined, depth + 1)
      entry = { mode: '040000', path: name, oid: child, type: 'tree' }
    }
    return git.writeTree({ fs: ctx.fs, gitdir: ctx.gitdir, tree: [...rest, entry] })
  }
  return put(rootTree, 0)
}
