import type { Worker } from 'node:worker_threads'
import { startWorker } from '../../src/_workerModule.js'
import type { PackFiles, WantedFiles } from './_packIndex.js'
import type { PackIndexReply, PackIndexRequest } from './_packIndexWorker.js'

/** A pack-index worker thread, started before its pack arrives so its start-up overlaps the download. */
export interface PackIndexer {
  /**
   * Indexes a pack (see `indexPackWithFiles`) on the worker, so the thread that fetched it goes on
   * (isomorphic-git indexes the same pack on it meanwhile); with `want`, also returns those files'
   * contents. Rejects with the indexer's error (a `PackIndexError` for a corrupt or thin pack) or
   * when the worker cannot run. Once only: the worker ends after it.
   */
  index(pack: Uint8Array, want?: WantedFiles): Promise<{ idx: Buffer; files: PackFiles | undefined }>
  /** Ends the worker if {@link PackIndexer.index} was not called. Idempotent. */
  close(): void
}

/** Starts a pack-index worker; it keeps the process alive only while it indexes. */
export function startPackIndexer(): PackIndexer {
  let worker: Worker | undefined
  let failed: unknown
  try {
    worker = startWorker(new URL('./_packIndexWorker.js', import.meta.url))
    worker.unref()
    // Until `index` listens: a worker that fails or ends early is reported by `index`.
    worker.once('error', (err) => {
      failed ??= err
    })
    worker.once('exit', (code) => {
      failed ??= new Error(`pack index worker exited (${code})`)
    })
  } catch (err) {
    failed = err
  }
  let used = false
  return {
    index(pack, want) {
      if (used) return Promise.reject(new Error('a pack indexer indexes one pack'))
      used = true
      if (worker === undefined || failed !== undefined) return Promise.reject(failed)
      return indexOn(worker, pack, want)
    },
    close() {
      if (used || worker === undefined) return
      used = true
      void worker.terminate()
    },
  }
}

/** {@link PackIndexer.index} on a worker of its own, started now. */
export function indexPackOffThread(
  pack: Uint8Array,
  want?: WantedFiles,
): Promise<{ idx: Buffer; files: PackFiles | undefined }> {
  return startPackIndexer().index(pack, want)
}

function indexOn(
  worker: Worker,
  pack: Uint8Array,
  want: WantedFiles | undefined,
): Promise<{ idx: Buffer; files: PackFiles | undefined }> {
  return new Promise((resolve, reject) => {
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      fn()
      void worker.terminate()
    }
    worker.ref()
    worker.once('message', (msg: PackIndexReply) => {
      if ('idx' in msg) {
        const files = msg.files === undefined ? undefined : { ...msg.files, data: asBuffer(msg.files.data) }
        settle(() => resolve({ idx: asBuffer(msg.idx), files }))
      } else {
        const error = Object.assign(new Error(msg.error.message), { name: msg.error.name })
        settle(() => reject(error))
      }
    })
    worker.once('error', (err) => settle(() => reject(err)))
    worker.once('exit', (code) => settle(() => reject(new Error(`pack index worker exited (${code})`))))
    // A copy: the caller's bytes stay where they are (isomorphic-git is still indexing them).
    const request: PackIndexRequest = { pack: new Uint8Array(pack), ...(want === undefined ? {} : { want }) }
    worker.postMessage(request)
  })
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
