import { parentPort } from 'node:worker_threads'
import { checkIntegrity, keyObjects, toWire, type WireRefusal } from './_integrity.js'

/**
 * A batch for the integrity worker: the records' bytes one after another in `buf` (transferred),
 * record `i` ending at `ends[i]`.
 */
export interface IntegrityBatch {
  readonly seq: number
  readonly buf: ArrayBuffer
  readonly ends: readonly number[]
  readonly maxBytes: number
}

/** What the worker found for one record: its id, its canonical bytes' length in the reply's `buf`, the good keys. */
export interface WireFacts {
  readonly id: string
  readonly length: number
  readonly good: readonly string[]
}

/** The answer to an {@link IntegrityBatch}: per record its facts or its refusal, the canonical bytes one after another in `buf`. */
export interface IntegrityReply {
  readonly seq: number
  readonly buf: ArrayBuffer
  readonly results: readonly (WireFacts | WireRefusal)[]
}

// Mutation testing cannot reach this module: Stryker switches mutants on in the test process, and a
// worker thread runs its own copy of the code with none active, so every mutant here shows as
// uncovered. What it runs is checkIntegrity and toWire, tested on this thread (integrity.test.ts),
// and the pool tests run this module itself.
const port = parentPort
if (port === null) throw new Error('_integrityWorker.ts runs in a worker thread started by IntegrityPool')
const keyObject = keyObjects()

// A worker of the IntegrityPool: runs `checkIntegrity` on every record of each batch it is sent. A
// failure that is not a refusal (a bug) crashes the worker, and the pool checks its records in-thread.
port.on('message', async (batch: IntegrityBatch) => {
  const input = new Uint8Array(batch.buf)
  const results: (WireFacts | WireRefusal)[] = []
  const outs: Uint8Array[] = []
  let start = 0
  let size = 0
  for (const end of batch.ends) {
    const integrity = await checkIntegrity(input.subarray(start, end), batch.maxBytes, { keyObject })
    start = end
    if ('error' in integrity) {
      const refusal = toWire(integrity.error)
      if (refusal === undefined) throw integrity.error
      results.push(refusal)
      continue
    }
    results.push({ id: integrity.id, length: integrity.canonical.byteLength, good: [...integrity.good] })
    outs.push(integrity.canonical)
    size += integrity.canonical.byteLength
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const bytes of outs) {
    out.set(bytes, at)
    at += bytes.byteLength
  }
  const reply: IntegrityReply = { seq: batch.seq, results, buf: out.buffer }
  port.postMessage(reply, [out.buffer])
})
