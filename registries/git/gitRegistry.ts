import git from 'isomorphic-git'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import type { RegistryComponents } from '../../src/components.js'
import { isMeshError } from '../../src/errors/base.js'
import { RegistryError } from '../../src/errors/registry.js'
import type { Logger } from '../../src/logger.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { checkEncodedRecord } from '../../src/registry/checkEncodedRecord.js'
import { compileNamePattern } from '../../src/registry/namePattern.js'
import type { AbortOptions, PublishReceipt, RegistryChange, RegistryEntry } from '../../src/registry/types.js'
import { watchQueue } from '../../src/registry/watchQueue.js'
import { type BranchTip, fetchTip } from './_branchTip.js'
import { checkInit, type GitConfig } from './_checkInit.js'
import { type GitContext, gitContext } from './_context.js'
import { EarlyCheck } from './_earlyCheck.js'
import { indexPending } from './_indexPending.js'
import { loadIndexState, saveIndexState } from './_indexState.js'
import { recordPath } from './_layout.js'
import { LocalBranch } from './_localBranch.js'
import type { BackgroundVerification, PendingRecords } from './_pendingRecords.js'
import { type PublishHost, publishOnBranch } from './_publish.js'
import { type RecordCheck, recordCheck } from './_recordCheck.js'
import { RecordIndex } from './_recordIndex.js'
import { openRepository, treeOf, walkNewCommits } from './_repository.js'
import { commitDiff } from './_trees.js'
import type { GitRegistry, GitRegistryInit, GitRegistryStatus, SyncReport } from './types.js'

/**
 * A registry of function records in a Git repository: one canonical JSON file per record at
 * `records/<namespace>/<path>.json`, in a bare repository in `dir`, optionally synced with an
 * http(s) remote (fetched on an interval and on demand, pushed on publish). Returns a factory the
 * mesh calls with its components (verifier, trust, clock, logger); options are checked at once.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({
 *   registries: [gitRegistry({ dir: '.fmesh/registry', url: 'https://git.example/records.git', signer })],
 *   trust: { owners: { 'acme.com': [signer.id] } },
 * })
 * const report = await mesh.registry<GitRegistry>('git').sync() // { changed, removed, skipped, commit, ... }
 * ```
 */
export function gitRegistry(init: GitRegistryInit): (components: RegistryComponents) => GitRegistry {
  const cfg = checkInit(init)
  return (components) => new GitRegistryImpl(cfg, components)
}

class GitRegistryImpl implements GitRegistry {
  readonly id: string
  private readonly cfg: GitConfig
  private readonly ctx: GitContext
  private readonly check: RecordCheck
  private readonly index = new RecordIndex()
  private readonly branch: LocalBranch
  private readonly tip: BranchTip
  private readonly publisher: PublishHost
  private readonly log: Logger
  private readonly clock: RegistryComponents['clock']
  private readonly watchers = watchQueue()
  private commit: string | undefined
  private opening: Promise<void> | undefined
  private started = false
  private timer: NodeJS.Timeout | undefined
  private lifetime = new AbortController()
  private tail: Promise<unknown> = Promise.resolve()
  private lastSync: GitRegistryStatus['lastSync']
  private lastError: GitRegistryStatus['lastError']
  /** A first sync's records still being verified in the background. */
  private pending: PendingRecords | undefined
  private lastVerification: BackgroundVerification | undefined
  /** The index save after a background verification. */
  private saved: Promise<void> = Promise.resolve()

  constructor(cfg: GitConfig, components: RegistryComponents) {
    this.cfg = cfg
    this.id = cfg.id
    this.clock = components.clock
    this.ctx = gitContext(cfg.dir)
    this.check = recordCheck(components.verifier, cfg.maxRecordBytes)
    this.log = components.logger(`registry:git:${cfg.id}`)
    this.branch = new LocalBranch(this.ctx.gitdir, cfg.branch, cfg.id, this.log)
    this.tip = { cfg, ctx: this.ctx, branch: this.branch, clock: this.clock }
    this.publisher = {
      tip: this.tip,
      index: this.index,
      log: this.log,
      indexed: () => this.commit!,
      resync: (signal) => this.syncRecorded(signal),
      catchUp: (tip) => this.catchUp(tip),
      accepted: async (name, entry) => {
        this.index.accept(name, entry)
        this.commit = entry.commit
        await this.save()
        this.watchers.notify({ names: [name], reason: 'publish' })
      },
    }
  }

  async start(): Promise<void> {
    await this.ready()
    if (this.started) return
    this.started = true
    this.lifetime = new AbortController()
    this.schedule()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearTimeout(this.timer)
    this.timer = undefined
    this.lifetime.abort()
    await this.pending?.halt()
    await this.tail.catch(() => undefined)
    await this.saved
  }

  status(): GitRegistryStatus {
    return {
      id: this.id,
      dir: this.cfg.dir,
      ...(this.cfg.url === undefined ? {} : { url: this.cfg.url }),
      branch: this.cfg.branch,
      started: this.started,
      ...(this.commit === undefined ? {} : { commit: this.commit }),
      names: this.index.entries.size + (this.pending?.size ?? 0),
      verified: this.index.entries.size,
      pending: this.pending?.size ?? 0,
      ...(this.lastVerification === undefined ? {} : { lastVerification: this.lastVerification }),
      ...(this.lastSync === undefined ? {} : { lastSync: this.lastSync }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    }
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    throwIfAborted(options.signal, `${this.id} lookup`)
    if (this.commit === undefined) await raceSignal(this.ready(), options.signal, `${this.id} lookup`)
    const key = String(name).toLowerCase()
    // Never served before its check: a record still pending is verified first.
    if (this.pending?.has(key))
      await raceSignal(this.pending.settle([key]), options.signal, `${this.id} lookup`)
    const entry = this.index.entries.get(key)
    if (entry === undefined) return undefined
    try {
      const bytes = await this.ctx.objects.readBlob(entry.oid)
      return { bytes, location: `git:${entry.commit}:${entry.path}` }
    } catch (err) {
      throw new RegistryError(this.id, `read ${entry.path}`, (err as Error).message, err)
    }
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    throwIfAborted(options.signal, `${this.id} list`)
    if (this.commit === undefined) await raceSignal(this.ready(), options.signal, `${this.id} list`)
    // Never listed before its check: the matching names still pending are verified first.
    const pending = this.pending
    if (pending !== undefined) {
      const matching = [...pending.names()].filter((name) => match(name))
      if (matching.length > 0) await raceSignal(pending.settle(matching), options.signal, `${this.id} list`)
    }
    for (const name of [...this.index.entries.keys()]) {
      throwIfAborted(options.signal, `${this.id} list`)
      if (match(name)) yield name
    }
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.watchers.follow(options.signal, `${this.id} watch`)
  }

  async sync(options: AbortOptions = {}): Promise<SyncReport> {
    throwIfAborted(options.signal, `${this.id} sync`)
    const opening = this.commit === undefined
    await raceSignal(this.ready(), options.signal, `${this.id} sync`)
    // The first use just synced (clone and full index): that is this call's report, once every
    // record of it is checked.
    if (opening && this.lastSync !== undefined && this.lastError === undefined) {
      await this.verified(options)
      return this.lastSync.report
    }
    return this.exclusive(() => this.syncRecorded(options.signal))
  }

  async verified(options: AbortOptions = {}): Promise<BackgroundVerification | undefined> {
    if (this.pending !== undefined)
      await raceSignal(this.pending.drain(), options.signal, `${this.id} verification`)
    await this.saved
    return this.lastVerification
  }

  async publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    const signal = options.signal
    throwIfAborted(signal, `${this.id} publish`)
    const name = checkEncodedRecord(encoded, this.id)
    const path = recordPath(name)
    const checked = await this.check(encoded.bytes, {
      origin: `${this.id} publish`,
      expectName: name,
      ...(signal === undefined ? {} : { signal }),
    })
    await raceSignal(this.ready(), signal, `${this.id} publish`)
    return this.exclusive(async () => {
      // The seq to beat is the verified one's: a record of this name still pending is checked first.
      await this.pending?.settle([name])
      return publishOnBranch(this.publisher, { name, path, bytes: encoded.bytes, ...checked }, signal)
    })
  }

  /** Brings the index to `tip` after a publish landed on it; false (logged) if that failed. */
  private catchUp(tip: string): Promise<boolean> {
    return this.advance(tip).then(
      () => true,
      (err: unknown) => {
        this.log.error('index left at %s after a publish: %s', this.commit, (err as Error).message)
        return false
      },
    )
  }

  /** Opens the repository and builds the index once; later calls wait for the same work. */
  private ready(): Promise<void> {
    if (this.opening === undefined) {
      this.opening = this.open().catch((err: unknown) => {
        this.opening = undefined
        throw err
      })
    }
    return this.opening
  }

  private async open(): Promise<void> {
    await openRepository(this.ctx, this.id, this.cfg.branch)
    const { fs, gitdir } = this.ctx
    // Only when it changes: config is rewritten whole, under no lock, and may be shared.
    if (
      this.cfg.url !== undefined &&
      (await git.getConfig({ fs, gitdir, path: 'remote.origin.url' })) !== this.cfg.url
    )
      await git.addRemote({ fs, gitdir, remote: 'origin', url: this.cfg.url, force: true })
    await this.exclusive(async () => {
      const saved = await loadIndexState(this.ctx.gitdir, this.cfg.branch, this.index)
      if (saved !== undefined && this.commit === undefined) {
        if (await treeOf(this.ctx, saved).catch(() => undefined)) this.commit = saved
        else {
          this.index.entries.clear()
          this.index.highest.clear()
          this.index.unownedHighest.clear()
        }
      }
      const local = await this.branch.read()
      // Index what this repository already holds first, so a dead remote still leaves it served.
      const held = local === undefined ? undefined : await this.advance(local)
      try {
        const report = await this.syncRecorded(undefined)
        if (held !== undefined && report.commit === held.commit) this.recordSync(held)
      } catch (err) {
        if (this.commit === undefined) throw err
        this.log.error('serving the local copy at %s: %s', this.commit, (err as Error).message)
      }
    })
  }

  private schedule(): void {
    if (!this.started || this.cfg.syncIntervalMs === 0) return
    this.timer = setTimeout(() => {
      const signal = this.lifetime.signal
      this.exclusive(() => this.syncRecorded(signal))
        .catch(() => undefined)
        .finally(() => this.schedule())
    }, this.cfg.syncIntervalMs)
    this.timer.unref()
  }

  /** Runs `work` after every earlier sync or publish has finished. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work)
    this.tail = run.catch(() => undefined)
    return run
  }

  /** One sync, with its outcome kept for `status()`. Callers hold the lock. */
  private async syncRecorded(signal: AbortSignal | undefined): Promise<SyncReport> {
    // A first sync from a remote checks the fetched records while the fetch still indexes them.
    const first =
      this.commit === undefined &&
      this.cfg.url !== undefined &&
      !this.cfg.verifyInBackground &&
      this.check.prepare
    const early = first
      ? new EarlyCheck(this.ctx, this.cfg.branch, this.index, this.check, signal, this.log)
      : undefined
    try {
      const tip = await fetchTip(this.tip, signal, early?.onPack)
      const report = await this.advance(tip, signal, early)
      this.recordSync(report)
      this.lastError = undefined
      return report
    } catch (err) {
      const error = isMeshError(err) ? err : new RegistryError(this.id, 'sync', (err as Error).message, err)
      this.lastError = { at: this.clock.now(), code: error.code, message: error.shortMessage }
      throw error
    } finally {
      await early?.settle()
    }
  }

  /** Keeps `report` as the last sync's, unless the full report of the same commit is there already. */
  private recordSync(report: SyncReport): void {
    const held = this.lastSync?.report
    if (report.pending !== undefined && held?.commit === report.commit && held.pending === undefined) return
    this.lastSync = { at: this.clock.now(), report }
  }

  /** Brings the index from the commit it reflects to `tip`, checking every record that changed. */
  private async advance(tip: string, signal?: AbortSignal, early?: EarlyCheck): Promise<SyncReport> {
    const startedAt = performance.now()
    const previous = this.commit
    if (tip === previous) {
      return {
        commit: tip,
        previous,
        changed: [],
        removed: [],
        skipped: [],
        rewritten: false,
        commits: [],
        durationMs: 0,
      }
    }
    // A sync past a first one waits for its records: the seqs they set are what newer ones must beat.
    if (previous !== undefined) await this.pending?.drain()
    const walk = await walkNewCommits(this.ctx, tip, previous, this.cfg.maxCommitsChecked)
    if (previous === undefined && this.cfg.verifyInBackground) return this.startPending(tip, walk, startedAt)
    const checked = previous === undefined ? await early?.resultFor(tip) : undefined
    const applied = checked
      ? this.index.applyChecked(checked.diff, checked.checked, signal)
      : await this.index.apply(this.ctx, await commitDiff(this.ctx, previous, tip), tip, this.check, signal)
    this.commit = tip
    const report: SyncReport = {
      commit: tip,
      ...(previous === undefined ? {} : { previous }),
      ...applied,
      rewritten: !walk.reached,
      commits: walk.commits,
      durationMs: performance.now() - startedAt,
    }
    for (const skipped of applied.skipped)
      this.log('skipped %s (%s): %s', skipped.path, skipped.code, skipped.message)
    await this.save()
    const names = [...applied.changed, ...applied.removed]
    if (names.length > 0) this.watchers.notify({ names, reason: 'sync' })
    this.log(
      'synced %s: %d changed, %d removed, %d skipped',
      tip,
      applied.changed.length,
      applied.removed.length,
      applied.skipped.length,
    )
    return report
  }

  /** A first sync that verifies in the background (see `indexPending`): answers from now on. */
  private async startPending(
    tip: string,
    walk: Awaited<ReturnType<typeof walkNewCommits>>,
    startedAt: number,
  ): Promise<SyncReport> {
    const { report, pending } = await indexPending({
      ctx: this.ctx,
      index: this.index,
      check: this.check,
      log: this.log,
      tip,
      walk,
      startedAt,
      onDone: (result, full) => {
        this.lastVerification = result
        if (this.pending === pending) this.pending = undefined
        if (this.lastSync === undefined || this.lastSync.report.commit === tip)
          this.lastSync = { at: this.clock.now(), report: full }
        this.saved = this.save()
        if (result.changed.length > 0) this.watchers.notify({ names: [...result.changed], reason: 'sync' })
      },
    })
    this.commit = tip
    if (pending === undefined) {
      await this.save()
      return report
    }
    this.pending = pending
    pending
      .drain()
      .catch((err: unknown) => this.log.error('background verification: %s', (err as Error).message))
    return report
  }

  /** Keeps the index for the next start; a failure only costs a full re-index then. */
  private async save(): Promise<void> {
    // Never while records are pending: a saved index claims every record of its commit is in it.
    if (this.commit === undefined || (this.pending?.size ?? 0) > 0) return
    await saveIndexState(this.ctx.gitdir, { commit: this.commit, branch: this.cfg.branch }, this.index).catch(
      (err: unknown) => {
        this.log.error('could not save the index: %s', (err as Error).message)
      },
    )
  }
}
