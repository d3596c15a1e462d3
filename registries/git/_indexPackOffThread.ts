import { startWorker } from '../../src/_workerModule.js'
import type { PackFiles, WantedFiles } from './_packIndex.js'
import type { PackIndexReply, PackIndexRequest } from './_packIndexWorker.js'

/**
 * Indexes a pack (see `indexPackWithFiles`) on a worker thread of its own, so the thread that
 * fetched it goes on (isomorphic-git indexes the same pack on it meanwhile); with `want`, also
 * returns those files' contents. Rejects with the indexer's error (a `PackIndexError` for a corrupt
 * or thin pack) or when the worker cannot run.
 */
export function indexPackOffThread(
  pack: Uint8Array,
  want?: WantedFiles,
): Promise<{ idx: Buffer; files: PackFiles | undefined }> {
  return new Promise((resolve, reject) => {
    let worker: ReturnType<typeof startWorker>
    try {
      worker = startWorker(new URL('./_packIndexWorker.js', import.meta.url))
    } catch (err) {
      reject(err)
      return
    }
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      fn()
      void worker.terminate()
    }
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
