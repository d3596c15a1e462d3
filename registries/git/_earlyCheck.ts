import { basename } from 'node:path'
import type { GitContext } from './_context.js'
import { indexPackOffThread } from './_indexPackOffThread.js'
import { isRecordFile, RECORDS_DIR } from './_layout.js'
import type { RecordCheck } from './_recordCheck.js'
import type { CheckedFiles, RecordIndex } from './_recordIndex.js'
import { resolveRef } from './_repository.js'
import { listRecordFiles, recordsTreeOf, type TreeDiff } from './_trees.js'

/** What an early check found: the records of `tip`, read and checked, for the index to apply. */
export interface EarlyResult {
  readonly tip: string
  readonly diff: TreeDiff
  readonly checked: CheckedFiles
}

interface Started {
  readonly tip: string
  readonly diff: TreeDiff
  readonly prepared: { finish(): Promise<CheckedFiles>; discard(): void }
}

/**
 * Overlaps a first sync's record checks with its fetch. The fetch moves the remote ref, writes the
 * pack, then has it indexed (see `packHandoff`). Told of the pack (`onPack`), this indexes it natively
 * on a worker thread, which also returns the record files of the ref's commit, hands the idx back to
 * the fetch (so the pack is indexed once), hands the pack to the object reader, and starts the
 * records' integrity checks (JSON, canonical form, id, signatures) on the verification workers. This
 * thread's share of the checks (schema, name, owners) waits for the fetch to end. The sync finishes the checks and
 * applies them only if its fetch ended at the same commit ({@link EarlyCheck.resultFor}); otherwise,
 * or on any failure, they are dropped and the sync checks as usual. Nothing is applied here.
 */
export class EarlyCheck {
  private running: Promise<Started | undefined> | undefined
  private claimed = false

  private readonly remoteRef: string

  constructor(
    private readonly ctx: GitContext,
    branch: string,
    private readonly index: RecordIndex,
    private readonly check: RecordCheck,
    private readonly signal: AbortSignal | undefined,
    private readonly log: (format: string, ...args: unknown[]) => void,
  ) {
    this.remoteRef = `refs/remotes/origin/${branch}`
  }

  /** For `fetchBranch`: starts on the first pack the fetch writes, and hands back its idx. */
  readonly onPack = (path: string, data: Uint8Array): Promise<Buffer | undefined> | undefined => {
    if (this.running !== undefined) return undefined
    let indexed: (idx: Buffer | undefined) => void = () => undefined
    const idx = new Promise<Buffer | undefined>((resolve) => {
      indexed = resolve
    })
    this.running = this.start(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength), indexed)
      .catch((err: unknown) => {
        this.log('early check dropped: %s', (err as Error).message)
        return undefined
      })
      .finally(() => indexed(undefined))
    return idx
  }

  /** The checked records of `tip` if this started on them, else `undefined` (and the work is dropped). */
  async resultFor(tip: string): Promise<EarlyResult | undefined> {
    const started = await this.running
    if (started === undefined || this.claimed) return undefined
    this.claimed = true
    if (started.tip !== tip) {
      started.prepared.discard()
      return undefined
    }
    return { tip, diff: started.diff, checked: await started.prepared.finish() }
  }

  /** Drops what was not claimed (a sync that failed or went the usual way leaves nothing held). */
  async settle(): Promise<void> {
    const started = await this.running
    if (started !== undefined && !this.claimed) started.prepared.discard()
    this.claimed = true
  }

  private async start(
    path: string,
    data: Buffer,
    indexed: (idx: Buffer) => void,
  ): Promise<Started | undefined> {
    const tip = await resolveRef(this.ctx, this.remoteRef)
    if (tip === undefined) return undefined
    // The worker has every object at hand: it also returns the record files (none read here).
    const { idx, files } = await indexPackOffThread(data, { commit: tip, dir: RECORDS_DIR, suffix: '.json' })
    this.ctx.objects.addPack(basename(path), data, idx)
    indexed(idx)
    const upserts = new Map<string, string>()
    const blobs = new Map<string, Uint8Array>()
    if (files === undefined) {
      for (const [p, oid] of await listRecordFiles(this.ctx, await recordsTreeOf(this.ctx, tip)))
        upserts.set(p, oid)
    } else {
      files.paths.forEach((p, i) => {
        if (!isRecordFile(p)) return
        upserts.set(p, files.oids[i]!)
        blobs.set(p, files.data.subarray(i === 0 ? 0 : files.ends[i - 1], files.ends[i]))
      })
    }
    const diff: TreeDiff = { upserts, deletes: new Set() }
    const prepared = await this.index.prepare(this.ctx, diff, tip, this.check, this.signal, (p) =>
      blobs.get(p),
    )
    return prepared === undefined ? undefined : { tip, diff, prepared }
  }
}
