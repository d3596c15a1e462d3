import { LedgerClosedError, LedgerWriteError } from '../errors/ledger.js'

interface QueuedWrite {
  write: () => void
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * The ledger's single writer. Every write is queued and a microtask later the whole queue runs in one
 * transaction (`commit`), so N calls in flight cost one commit, not N. A write's promise settles only
 * after the transaction holding it committed. A failed commit breaks the writer: that batch and every
 * later write are refused with the same `LedgerWriteError`.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = []
  private scheduled = false
  private closed = false
  broken: LedgerWriteError | undefined

  constructor(
    private readonly path: string,
    private readonly commit: (writes: readonly QueuedWrite[]) => void,
    /** Called when a commit failed (its transaction rolled back). */
    private readonly rolledBack: () => void = () => {},
  ) {}

  /** Whether a write is queued or a flush is due. */
  get pending(): boolean {
    return this.queue.length > 0 || this.scheduled
  }

  /** Queues a write for the next batch; a `lazy` write waits for the next write that schedules a flush. */
  enqueue(write: () => void, lazy = false): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken)
    if (this.closed) return Promise.reject(new LedgerClosedError(this.path))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ write, resolve, reject })
      if (!this.scheduled && !lazy) {
        this.scheduled = true
        queueMicrotask(this.flush)
      }
    })
  }

  /** Refuses everything queued and every later write. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const op of this.queue) op.reject(new LedgerClosedError(this.path))
    this.queue = []
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const batch = this.queue
    this.queue = []
    if (batch.length === 0 || this.closed) return
    try {
      this.commit(batch)
    } catch (err) {
      this.rolledBack()
      this.broken ??= new LedgerWriteError(this.path, err)
      for (const op of batch) op.reject(this.broken)
      for (const op of this.queue) op.reject(this.broken)
      this.queue = []
      return
    }
    for (const op of batch) op.resolve()
  }
}
