import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyInclusion } from '../../src/ledger/checkpoint.js'
import { contentId } from '../../src/ledger/entry.js'
import { type Ledger, openLedger } from '../../src/ledger/Ledger.js'
import { measure, quick, record, report, time } from './_harness.js'
import { count, plot } from './_scale.js'

// The ledger as it grows: lineage pairs (FUNCTION_INVOKED, then FUNCTION_COMPLETED with its charge,
// the way a durable call writes them), IN_FLIGHT at a time through the ledger's group commit, to
// FMESH_LEDGER_ENTRIES entries. Default 1,000,000: what this run's time budget affords on a 2-core
// machine with a full verify at each size; FMESH_LEDGER_ENTRIES=10000000 runs the whole way (~10x as
// long). At each checkpoint size: the window's calls/s (the first window, on a fresh ledger, is the
// baseline), an inclusion proof's size and time, verifyInclusion's time, and a full ledger.verify.
// Not run in `--quick` mode.
const ENTRIES = Number(process.env.FMESH_LEDGER_ENTRIES ?? 1_000_000)
const CHECKPOINTS = [10_000, 100_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000].filter((n) => n <= ENTRIES)
const IN_FLIGHT = 256
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const INPUT_CID = contentId({ text: 'hello' })
const OUTPUT_CID = contentId({ text: 'HELLO' })

async function pair(ledger: Ledger, n: number): Promise<void> {
  const base = {
    invocation: `inv-${n}`,
    attempt: 1,
    function: 'acme.com/text/upper',
    version: '1.0.0',
    provider: 'local',
    principal: 'bench',
  }
  const invoked = await ledger.invoked({
    ...base,
    endpoint: 'local:acme.com/text/upper@1.0.0',
    recordId: 'local:acme.com/text/upper@1.0.0',
    reason: 'bench',
    inputCid: INPUT_CID,
    idempotencyClass: 'idempotent',
    traceparent: TRACE,
  })
  await ledger.completed(
    invoked,
    { ...base, outputCid: OUTPUT_CID, durationMs: 0.01, quantity: '1' },
    { currency: 'USDC', amount: 10n, quantity: 1n },
  )
}

export default async function scaleLedgerBench(): Promise<void> {
  if (quick) {
    console.log('  (not run in --quick mode: the ledger to millions of entries takes minutes)')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-scale-ledger-'))
  const path = join(dir, 'ledger.sqlite')
  const ledger = await openLedger({ path })
  try {
    let calls = 0
    let first: number | undefined
    for (const size of CHECKPOINTS) {
      const target = size / 2
      const before = calls
      const windowMs = await time(async () => {
        while (calls < target) {
          const batch = Math.min(IN_FLIGHT, target - calls)
          await Promise.all(Array.from({ length: batch }, (_, k) => pair(ledger, calls + k)))
          calls += batch
        }
      })
      const rate = ((calls - before) / windowMs) * 1000
      first ??= rate
      record({
        name: `ledger calls/s up to ${count(size)} entries (${IN_FLIGHT} in flight)`,
        value: rate,
        unit: 'calls/s',
        baseline: `first window, to ${count(CHECKPOINTS[0]!)} entries (fresh ledger)`,
        baselineValue: first,
        ratio: rate / first,
        note: 'one lineage pair (INVOKED committed first, COMPLETED + charge) per call',
      })
      plot('scale-ledger', 'lineage pairs/s', size, rate)

      const last = (await ledger.lineage(`inv-${calls - 1}`))[1]!.id
      const firstProofMs = await time(() => ledger.proof(last))
      const proof = await ledger.proof(last)
      const proofBytes = Buffer.byteLength(JSON.stringify(proof))
      const proofTime = await measure(`ledger.proof at ${count(size)} entries`, () => ledger.proof(last), {
        batch: 20,
        minMs: 300,
        warmupMs: 50,
      })
      const check = await measure(
        `verifyInclusion at ${count(size)} entries`,
        () => verifyInclusion(proof, { keyId: ledger.keyId }),
        { batch: 20, minMs: 300, warmupMs: 50 },
      )
      if (!verifyInclusion(proof, { keyId: ledger.keyId }))
        throw new Error('the inclusion proof does not verify')
      let ok = false
      const verifyMs = await time(async () => {
        ok = (await ledger.verify()).ok
      })
      if (!ok) throw new Error(`the ledger does not verify at ${size} entries`)
      report(proofTime)
      report(check)
      record({
        name: `inclusion proof size at ${count(size)} entries`,
        value: proofBytes,
        unit: 'bytes',
        note: `${proof.path.length} sibling hashes; first proof (signs a checkpoint) ${firstProofMs.toFixed(2)} ms`,
      })
      record({
        name: `full ledger.verify at ${count(size)} entries`,
        value: verifyMs,
        unit: 'ms',
        note: `${((size / verifyMs) * 1000).toFixed(0)} entries/s; file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`,
      })
      plot('scale-ledger-proof', 'ledger.proof', size, proofTime.medianUs / 1000)
      plot('scale-ledger-proof', 'full verify', size, verifyMs)
      console.log(
        `  ${count(size)} entries: ${rate.toFixed(0)} calls/s (${(rate / first).toFixed(2)}x the first window); proof ${proofBytes} bytes, ${(proofTime.medianUs / 1000).toFixed(3)} ms (first ${firstProofMs.toFixed(2)} ms); verifyInclusion ${check.medianUs.toFixed(1)} us; full verify ${verifyMs.toFixed(0)} ms`,
      )
    }
  } finally {
    await ledger.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
