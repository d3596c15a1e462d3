import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { MeshError } from '../errors/base.js'
import type { SeqLedger } from './SeqLedger.js'

/**
 * A {@link SeqLedger} kept in a JSON file, so rollback protection survives restarts (every CLI
 * command is a new process). Writes are atomic (a temporary file renamed over the old one) and
 * batched: the file is written at most once per tick of accepts, and on `flush()`.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ seqLedger: fileSeqLedger('.fmesh/seq.json'), ... })
 * ```
 */
export function fileSeqLedger(path: string): SeqLedger & { flush(): Promise<void> } {
  const seqs = new Map<string, number>(Object.entries(load(path)))
  let dirty = false
  let scheduled: Promise<void> | undefined
  // Equivalent mutants here (mutation testing): `dirty` left true, an equal seq not skipped in
  // `accept`, an undefined floor in `retract` (JSON drops it), or an empty `flush` (the write is
  // already queued as a microtask) only write the same content again or earlier.
  const write = () => {
    scheduled = undefined
    if (!dirty) return
    dirty = false
    mkdirSync(dirname(path), { recursive: true })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(seqs))}\n`)
    renameSync(tmp, path)
  }
  return {
    highest: (name) => seqs.get(name),
    accept(name, seq) {
      const current = seqs.get(name)
      if (current !== undefined && seq <= current) return
      seqs.set(name, seq)
      dirty = true
      scheduled ??= Promise.resolve().then(write)
    },
    retract(name, seq, floor) {
      if (seqs.get(name) !== seq) return
      if (floor === undefined || floor <= 0) seqs.delete(name)
      else seqs.set(name, floor)
      dirty = true
      scheduled ??= Promise.resolve().then(write)
    },
    async flush() {
      await scheduled
      write()
    },
  }
}

function load(path: string): Record<string, number> {
  let text: string
  try {
    // Without the encoding JSON.parse reads the Buffer as UTF-8 all the same (an equivalent mutant).
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new MeshError('E_SEQ_LEDGER_READ', `Cannot read the seq ledger ${path}`, {
      details: { path },
      cause: err,
    })
  }
  try {
    const value = JSON.parse(text) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
    for (const [name, seq] of Object.entries(value)) {
      if (!Number.isSafeInteger(seq) || (seq as number) < 0) throw new Error(`bad seq for ${name}`)
    }
    return value as Record<string, number>
  } catch (err) {
    throw new MeshError('E_SEQ_LEDGER_CORRUPT', `The seq ledger ${path} is corrupt`, {
      details: { path, reason: (err as Error).message },
      hint: 'Move the file aside: the mesh then trusts the highest seq it sees next (no rollback check until then).',
      cause: err,
    })
  }
}
