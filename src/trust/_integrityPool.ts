import type { KeyObject } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../_workerModule.js'
import { AbortedError } from '../errors/resolve.js'
import { checkIntegrity, fromWire, type Integrity } from './_integrity.js'
import type { IntegrityBatch, IntegrityReply } from './_integrityWorker.js'

/** Records per message to a worker: enough to amortize messaging, small enough to spread the work. */
const CHUNK = 32
/** Fewest records per message. */
const MIN_CHUNK = 4
/** Records the main thread takes at a time when it checks queued records itself. */
const STEAL = 8
/** Batches posted to a worker before it answers, so it never waits on the main thread. */
const IN_FLIGHT = 2
/** Workers that may crash in a row, none having answered, before the pool stops starting them. */
const MAX_CRASHES = 3

export interface IntegrityItem {
  readonly bytes: Uint8Array
  readonly origin?: string | undefined
  readonly signal?: AbortSignal | undefined
}

export interface IntegrityPoolInit {
  size: number
  maxBytes: number
  keyObject: (keyId: string) => KeyObject | undefined
  /** The main thread also checks queued records when it has nothing else to do. @default true */
  steal?: boolean
  /** The worker module (its compiled `.js` URL); tests pass one that crashes. @default `./_integrityWorker.js` */
  worker?: URL
}

interface Job {
  readonly item: IntegrityItem
  readonly resolve: (integrity: Integrity | Promise<Integrity>) => void
}

interface Slot {
  readonly worker: Worker
  readonly inFlight: Map<number, Job[]>
  dead: boolean
}

/**
 * Mutation testing: how the pool spreads work (chunk sizes, records in flight, when this thread
 * steals, ref/unref, batch numbering, the crash budget) changes when a record settles, never what it
 * settles with, and every job settles whatever the schedule; those mutants survive as equivalent or
 * show as timeouts. Its results, aborts and crash recovery are what the tests pin.
 *
 * Worker threads that check the integrity of records (see {@link Integrity}). Batches go out in
 * chunks, a few in flight per worker; the main thread takes queued records from the tail when it is
 * idle. Workers are unref'd while idle, so they never keep the process alive. A worker that dies is
 * replaced and its records are checked on this thread; every job settles, and only a bug rejects one.
 */
export class IntegrityPool {
  private readonly init: IntegrityPoolInit
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private seq = 0
  private crashes = 0
  private stealing = false
  private holds = 0
  private closed = false

  constructor(init: IntegrityPoolInit) {
    this.init = init
  }

  /** Live workers (tests end one to check the pool survives it). */
  get workers(): readonly Worker[] {
    return this.slots.filter((s) => !s.dead).map((s) => s.worker)
  }

  /** Checks each item; the promises settle in any order, and reject only on a bug. */
  check(items: readonly IntegrityItem[]): Promise<Integrity>[] {
    const promises = items.map(
      (item) => new Promise<Integrity>((resolve) => this.queue.push({ item, resolve })),
    )
    this.closed = false
    this.fill()
    this.pump()
    return promises
  }

  /**
   * Keeps this thread from taking queued records until {@link IntegrityPool.release}: for a caller
   * whose thread is busy with other work meanwhile. (Without live workers, records wait for release.)
   */
  hold(): void {
    this.holds++
  }

  release(): void {
    if (this.holds === 0) return
    this.holds--
    this.pump()
  }

  /** Ends every worker; records in flight are checked on this thread. */
  async close(): Promise<void> {
    this.closed = true
    const slots = this.slots.splice(0)
    await Promise.all(slots.map((s) => this.retire(s).worker.terminate()))
    this.drainInThread(this.queue.splice(0))
  }

  private fill(): void {
    if (this.crashes >= MAX_CRASHES) return
    try {
      while (this.slots.length < this.init.size) this.slots.push(this.spawn())
    } catch {
      // No worker can start here: every record is checked in-thread.
      this.crashes = MAX_CRASHES
    }
  }

  private spawn(): Slot {
    const worker = startWorker(this.init.worker ?? new URL('./_integrityWorker.js', import.meta.url))
    worker.unref()
    const slot: Slot = { worker, inFlight: new Map(), dead: false }
    worker.on('message', (msg: IntegrityReply) => this.answer(slot, msg))
    worker.on('error', () => this.crash(slot))
    worker.on('exit', () => this.crash(slot))
    return slot
  }

  /** Sends queued chunks from the head to workers with room, then lets the main thread take the tail. */
  private pump(): void {
    // Chunks shrink for small queues, so this thread keeps a share to take from the tail.
    const chunk = Math.min(
      CHUNK,
      Math.max(MIN_CHUNK, Math.ceil(this.queue.length / (IN_FLIGHT * (this.slots.length + 1)))),
    )
    for (const slot of this.slots) {
      while (!slot.dead && slot.inFlight.size < IN_FLIGHT && this.queue.length > 0) {
        this.post(slot, this.take(this.queue.splice(0, chunk)))
      }
    }
    if (this.queue.length === 0 || this.stealing || this.holds > 0) return
    if (this.slots.length === 0 || this.init.steal !== false) {
      this.stealing = true
      setImmediate(() => this.steal())
    }
  }

  private steal(): void {
    this.stealing = false
    const jobs = this.take(this.queue.splice(Math.max(0, this.queue.length - STEAL)))
    this.drainInThread(jobs)
    this.pump()
  }

  /** Drops jobs whose signal has fired, settling them as aborted. */
  private take(jobs: Job[]): Job[] {
    return jobs.filter((job) => {
      const signal = job.item.signal
      if (signal?.aborted !== true) return true
      job.resolve({ error: new AbortedError('record verification', signal.reason) })
      return false
    })
  }

  private post(slot: Slot, jobs: Job[]): void {
    if (jobs.length === 0) return
    let size = 0
    for (const job of jobs) size += job.item.bytes.byteLength
    const buf = new Uint8Array(size)
    const ends: number[] = []
    let at = 0
    for (const job of jobs) {
      buf.set(job.item.bytes, at)
      at += job.item.bytes.byteLength
      ends.push(at)
    }
    const seq = this.seq++
    if (slot.inFlight.size === 0) slot.worker.ref()
    slot.inFlight.set(seq, jobs)
    const batch: IntegrityBatch = { seq, buf: buf.buffer, ends, maxBytes: this.init.maxBytes }
    slot.worker.postMessage(batch, [buf.buffer])
  }

  private answer(slot: Slot, msg: IntegrityReply): void {
    const jobs = slot.inFlight.get(msg.seq)
    if (jobs === undefined) return
    slot.inFlight.delete(msg.seq)
    if (slot.inFlight.size === 0) slot.worker.unref()
    this.crashes = 0
    const out = new Uint8Array(msg.buf)
    let at = 0
    msg.results.forEach((result, i) => {
      const job = jobs[i]!
      if ('code' in result) {
        job.resolve({ error: fromWire(result, job.item.origin) })
        return
      }
      const canonical = out.subarray(at, at + result.length)
      at += result.length
      job.resolve({ id: result.id, canonical, good: new Set(result.good) })
    })
    this.pump()
  }

  /** A worker failed or exited: its records are checked here, and another worker takes its place. */
  private crash(slot: Slot): void {
    if (slot.dead) return
    this.retire(slot)
    const index = this.slots.indexOf(slot)
    if (index >= 0) this.slots.splice(index, 1)
    if (this.closed) return
    this.crashes++
    this.fill()
    this.pump()
  }

  private retire(slot: Slot): Slot {
    if (slot.dead) return slot
    slot.dead = true
    slot.worker.unref()
    const jobs = [...slot.inFlight.values()].flat()
    slot.inFlight.clear()
    this.drainInThread(jobs)
    return slot
  }

  private drainInThread(jobs: readonly Job[]): void {
    for (const job of this.take([...jobs])) {
      const { bytes, origin } = job.item
      job.resolve(checkIntegrity(bytes, this.init.maxBytes, { keyObject: this.init.keyObject, origin }))
    }
  }
}
