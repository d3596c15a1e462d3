import { Worker } from 'node:worker_threads'
import { indexPackWith } from './_packIndex.js'

/**
 * The pack-index worker, as source text started with `new Worker(source, { eval: true })` (it loads
 * the same way under vitest, tsx and the compiled `dist/`): it runs {@link indexPackWith} on the one
 * pack it is sent and answers with the idx bytes or the error's name and message. `__name` is there
 * for transpilers that wrap inner functions to keep their names.
 */
const SOURCE = `
'use strict'
const { parentPort } = require('node:worker_threads')
const { createHash, hash } = require('node:crypto')
const { crc32, inflateSync } = require('node:zlib')
const __name = (f) => f
const indexPackWith = ${indexPackWith.toString()}
parentPort.once('message', (pack) => {
  try {
    const idx = indexPackWith(Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength), { createHash, hash, crc32, inflateSync })
    parentPort.postMessage({ idx }, [idx.buffer])
  } catch (err) {
    parentPort.postMessage({ error: { name: err && err.name, message: String(err && err.message) } })
  }
})
`

/**
 * Indexes a pack (see {@link indexPackWith}) on a worker thread of its own, so the thread that
 * fetched it goes on (isomorphic-git indexes the same pack on it meanwhile). Rejects with the
 * indexer's error (a `PackIndexError` for a corrupt or thin pack) or when the worker cannot run.
 */
export function indexPackOffThread(pack: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let worker: Worker
    try {
      worker = new Worker(SOURCE, { eval: true })
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
    worker.once(
      'message',
      (msg: { idx?: ArrayBuffer | Uint8Array; error?: { name: string; message: string } }) => {
        if (msg.idx !== undefined) {
          const idx = msg.idx instanceof Uint8Array ? msg.idx : new Uint8Array(msg.idx)
          settle(() => resolve(Buffer.from(idx.buffer, idx.byteOffset, idx.byteLength)))
        } else {
          const error = Object.assign(new Error(msg.error?.message ?? 'pack index failed'), {
            name: msg.error?.name ?? 'PackIndexError',
          })
          settle(() => reject(error))
        }
      },
    )
    worker.once('error', (err) => settle(() => reject(err)))
    worker.once('exit', (code) => settle(() => reject(new Error(`pack index worker exited (${code})`))))
    // A copy: the caller's bytes stay where they are (isomorphic-git is still indexing them).
    worker.postMessage(new Uint8Array(pack))
  })
}
