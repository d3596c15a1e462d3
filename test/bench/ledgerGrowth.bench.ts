import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh } from '../../src/mesh.js'
import { upperFunction } from '../_helpers/upper.js'

const CALLS = Number(process.env.FMESH_GROWTH_CALLS ?? 500_000)
const WINDOW = 50_000
const IN_FLIGHT = 256

// Durable calls/s as the ledger grows (two entries per call): does a big ledger slow calls down?
// The baseline is the same run's first window, on a fresh ledger. FMESH_GROWTH_CALLS sets the length
// (default 500,000 calls, 1M entries, ~20-40 s).
//
// Figures on the shared 2-core machine:
//   entry-id index keyed by CID alone (before 14ba55e): 25.5k calls/s at 200k entries, 14-16k at
//     1.4M-2M entries (0.55x): each bulk refresh of 4096 random ids dirtied thousands of index pages.
//   partitioned by epochs of 65,536 entries: 24-27k calls/s from 200k to 2M entries.
export default async function ledgerGrowthBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-growth-'))
  const mesh = await createMesh({ ledger: { path: join(dir, 'ledger.sqlite') } })
  upperFunction().register(mesh.marketplace)
  const input = { text: 'hello world' }
  try {
    const rates: number[] = []
    for (let done = 0; done < CALLS; done += WINDOW) {
      const started = performance.now()
      for (let i = 0; i < WINDOW / IN_FLIGHT; i++)
        await Promise.all(Array.from({ length: IN_FLIGHT }, () => mesh.call('acme.com/text/upper', input)))
      const calls = Math.floor(WINDOW / IN_FLIGHT) * IN_FLIGHT
      const rate = (calls / (performance.now() - started)) * 1000
      rates.push(rate)
      const label = `  durable calls, ${IN_FLIGHT} in flight, ledger at ${((done + WINDOW) * 2).toLocaleString('en-US')} entries`
      console.log(`${label.padEnd(70)}${Math.round(rate).toLocaleString('en-US')} calls/s`)
    }
    const first = rates[0]!
    const last = rates[rates.length - 1]!
    console.log(
      `  ratio last window / first window (fresh ledger)       ${(last / first).toFixed(2)}x  (${Math.round(last).toLocaleString('en-US')} vs ${Math.round(first).toLocaleString('en-US')} calls/s)`,
    )
    const check = await mesh.lineage.verify()
    console.log(`  ledger after the run: ${check.entries} entries, verify ${check.ok ? 'ok' : 'FAILED'}`)
  } finally {
    await mesh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
