import { Worker } from 'node:worker_threads'
import { indexPackWith, type PackFiles, type WantedFiles } from './_packIndex.js'

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
const whole = (b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
parentPort.once('message', ({ pack, want }) => {
  try {
    const bytes = Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength)
    const { idx, files } = indexPackWith(bytes, { createHash, hash, crc32, inflateSync }, want)
    const transfer = [idx, files && files.data].filter((b) => b && whole(b)).map((b) => b.buffer)
    parentPort.postMessage({ idx, files }, transfer)
  } catch (err) {
    parentPort.postMessage({ error: { name: err && err.name, message: String(err && err.message) } })
  }
})
`

/**
 * Indexes a pack (see {@link indexPackWith}) on a worker thread of its own, so the thread that
 * fetched it goes on (isomorphic-git indexes the same pack on it meanwhile); with `want`, also
 * returns those files' contents. Rejects with the indexer's error (a `PackIndexError` for a corrupt
 * or thin pack) or when the worker cannot run.
 */
export function indexPackOffThread(
  pack: Uint8Array,
  want?: WantedFiles,
): Promise<{ idx: Buffer; files: PackFiles | undefined }> {
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
    worker.once('message', (msg: Reply) => {
      if (msg.idx !== undefined) {
        const files = msg.files ? { ...msg.files, data: asBuffer(msg.files.data) } : undefined
        settle(() => resolve({ idx: asBuffer(msg.idx!), files }))
      } else {
        const error = Object.assign(new Error(msg.error?.message ?? 'pack index failed'), {
          name: msg.error?.name ?? 'PackIndexError',
        })
        settle(() => reject(error))
      }
    })
    worker.once('error', (err) => settle(() => reject(err)))
    worker.once('exit', (code) => settle(() => reject(new Error(`pack index worker exited (${code})`))))
    // A copy: the caller's bytes stay where they are (isomorphic-git is still indexing them).
    worker.postMessage({ pack: new Uint8Array(pack), want })
  })
}

interface Reply {
  idx?: Uint8Array
  files?: (Omit<PackFiles, 'data'> & { data: Uint8Array }) | null
  error?: { name: string; message: string }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
