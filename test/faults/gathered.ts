// Faults the suite already covers in its own tests (a real anvil's RPC down and a reorg, a Git
// server down, hostile peers, call deadlines): run here with vitest so the fault run gathers them.
// Those tests assert zero lost records, rollbacks and deadline breaks themselves; a failing one is
// reported as a problem.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FaultReport } from './_audit.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Each gathered fault: the test file and, when only some of its tests are about the fault, their name pattern. */
export const GATHERED: readonly { fault: string; file: string; pattern?: string }[] = [
  { fault: 'chain RPC down', file: 'test/integration/chainRegistry.test.ts', pattern: 'E_CHAIN_RPC' },
  { fault: 'chain reorg', file: 'test/integration/chainWatch.test.ts', pattern: 'reorg' },
  {
    fault: 'git server down, tampered and rolled-back history',
    file: 'test/integration/gitRegistry.faults.test.ts',
  },
  {
    fault: 'hostile peers (forged, oversize, rolled-back, floods)',
    file: 'test/integration/peerNode.hostile.test.ts',
  },
  { fault: 'call deadlines (hanging and slow providers)', file: 'test/invoke/deadlines.test.ts' },
]

export async function gatheredFault(entry: (typeof GATHERED)[number]): Promise<FaultReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-faults-gathered-'))
  const out = join(dir, 'report.json')
  try {
    const args = ['vitest', 'run', entry.file, '--reporter=json', `--outputFile=${out}`]
    if (entry.pattern !== undefined) args.push('-t', entry.pattern)
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('npx', args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] })
      child.stderr.resume()
      child.on('close', resolve)
    })
    let report: {
      numPassedTests: number
      numFailedTests: number
      testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[]
    }
    try {
      report = JSON.parse(readFileSync(out, 'utf8'))
    } catch {
      return {
        fault: entry.fault,
        checked: `${entry.file}: vitest exited ${code} without a report`,
        calls: 0,
        lost: 0,
        doubleCharges: 0,
        brokeDeadline: 0,
        staleServed: 0,
        problems: [`vitest exited ${code}`],
      }
    }
    const failed = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed'))
    return {
      fault: entry.fault,
      checked: `${report.numPassedTests} tests of ${entry.file}${entry.pattern === undefined ? '' : ` matching "${entry.pattern}"`} passed`,
      calls: report.numPassedTests + report.numFailedTests,
      lost: 0,
      doubleCharges: 0,
      brokeDeadline: 0,
      staleServed: 0,
      problems: [
        ...(report.numPassedTests === 0 ? ['no test ran'] : []),
        ...failed.map((a) => `${a.fullName}: ${(a.failureMessages[0] ?? '').split('\n')[0]}`),
      ],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
