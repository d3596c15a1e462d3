import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contentId } from '../../src/ledger/entry.js'
import { type Ledger, openLedger } from '../../src/ledger/Ledger.js'
import { bareSqlite, measure, ratio, report, time } from './_harness.js'

const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const INPUT_CID = contentId({ text: 'hello' })
const OUTPUT_CID = contentId({ text: 'HELLO' })

function attempt(ledger: Ledger, n: number, wait: boolean) {
  const base = {
    invocation: `inv-${n}`,
    attempt: 1,
    function: 'acme.com/text/upper',
    version: '1.0.0',
    provider: 'local',
    principal: 'bench',
  }
  const fields = {
    ...base,
    endpoint: 'local:acme.com/text/upper@1.0.0',
    recordId: 'local:acme.com/text/upper@1.0.0',
    reason: 'bench',
    inputCid: INPUT_CID,
    idempotencyClass: 'idempotent',
    traceparent: TRACE,
  }
  const complete = (invoked: Awaited<ReturnType<Ledger['invoked']>>) =>
    ledger.completed(
      invoked,
      { ...base, outputCid: OUTPUT_CID, durationMs: 0.01, quantity: '1' },
      { currency: 'USDC', amount: 10n, quantity: 1n },
    )
  return wait ? ledger.invoked(fields).then(complete) : complete(ledger.invokedDeferred(fields))
}

// The ledger alone: one lineage pair (INVOKED + COMPLETED + charge) per operation, against a bare
// SQLite insert-per-commit baseline measured in the same run; then verify and proof over the result.
export default async function ledgerBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-ledger-bench-'))
  const ledger = await openLedger({ path: join(dir, 'ledger.sqlite') })
  const raw = bareSqlite(join(dir, 'raw.sqlite'))
  try {
    const baseline = await measure('bare SQLite: one 400-byte insert per commit', raw.commit, {
      batch: 500,
    })
    report(baseline)
    let n = 0
    const twoCommits = await measure(
      'lineage pair, INVOKED committed first (2 commits)',
      () => attempt(ledger, n++, true),
      { batch: 200 },
    )
    report(twoCommits)
    const oneCommit = await measure(
      'lineage pair, committed together (1 commit)',
      () => attempt(ledger, n++, false),
      { batch: 200 },
    )
    report(oneCommit)
    const group = await measure(
      'lineage pairs, 256 in flight (group commit)',
      () => Promise.all(Array.from({ length: 256 }, () => attempt(ledger, n++, true))),
      { batch: 4 },
    )
    const perPair = {
      ...group,
      name: 'lineage pairs, 256 in flight (per pair)',
      opsPerSec: group.opsPerSec * 256,
      medianUs: group.medianUs / 256,
    }
    report(perPair)
    ratio('group-committed pairs vs bare single-row commits', perPair, baseline)
    let entries = 0
    const verifyMs = await time(async () => {
      entries = (await ledger.verify()).entries
    })
    console.log(
      `  verify: ${entries} entries in ${verifyMs.toFixed(0)} ms (${Math.round(entries / (verifyMs / 1000))} entries/s)`,
    )
    const last = (await ledger.lineage(`inv-${n - 1}`))[1]!.id
    const proofMs = await time(() => ledger.proof(last))
    console.log(`  proof over ${entries} entries: ${proofMs.toFixed(1)} ms`)
  } finally {
    raw.close()
    await ledger.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
