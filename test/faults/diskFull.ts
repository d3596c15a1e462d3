// Fault: the ledger's disk fills up mid-run. SQLite's max_page_count (the ledger's `maxSizeBytes`)
// makes a full disk reproducible: the batch that would grow the file past it fails as ENOSPC would.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMeshError } from '../../src/errors/base.js'
import { governedFunction } from '../../src/invoke/governedFunction.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { auditLedger, type FaultReport } from './_audit.js'

const LEASE = 'disk-lease'

function register(mesh: Mesh): void {
  governedFunction(
    {
      name: 'acme.com/disk/pay',
      version: '1.0.0',
      idempotency: 'exactly-once',
      maxRisk: 'irreversible',
      cost: { unit: 'USDC', baseUnits: '7' },
    },
    (input: { i: number; pad: string }) => ({ paid: input.i, pad: input.pad }),
  ).register(mesh.marketplace)
}

/**
 * Fills the ledger's disk with paid calls until one fails; then checks the failure is a clean
 * `E_LEDGER_WRITE` (and so is every later write), closing works, and the reopened ledger verifies
 * with exactly one charge per call that returned a result and none for the calls that failed.
 */
export async function diskFullFault(
  options: { quotas?: readonly number[]; concurrency?: readonly number[] } = {},
): Promise<FaultReport> {
  const quotas = options.quotas ?? [32 * 1024, 96 * 1024, 160 * 1024]
  const lanes = options.concurrency ?? [1, 8]
  const runs: FaultReport[] = []
  for (const quota of quotas)
    for (const concurrency of lanes) runs.push(await diskFullRun(quota, concurrency))
  const sum = (k: 'lost' | 'doubleCharges' | 'calls') => runs.reduce((n, r) => n + r[k], 0)
  return {
    fault: 'ledger disk full',
    checked: `${runs.length} runs (quota over the empty ledger ${quotas.map((q) => `${q / 1024} KiB`).join(', ')}; ${lanes.join(' and ')} calls at once): paid calls until the disk filled, then more; each reopened, verified, charges audited`,
    calls: sum('calls'),
    lost: sum('lost'),
    doubleCharges: sum('doubleCharges'),
    brokeDeadline: 0,
    staleServed: 0,
    problems: runs.flatMap((r) => r.problems.map((p) => `${r.checked}: ${p}`)),
  }
}

async function diskFullRun(quota: number, concurrency: number): Promise<FaultReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-fault-disk-'))
  const path = join(dir, 'ledger.sqlite')
  const problems: string[] = []
  const succeeded: string[] = []
  let calls = 0
  try {
    // The schema and the lease first, then a quota a little over that size.
    const setup = await createMesh({ ledger: { path }, dataDir: join(dir, 'data') })
    await setup.leases.grant({
      id: LEASE,
      capabilities: ['acme.com/disk/*'],
      budgets: { USDC: 10n ** 30n },
      ttlMs: 86_400_000,
    })
    await setup.close()
    const size = statSync(path).size
    const mesh = await createMesh({
      ledger: { path, maxSizeBytes: size + quota },
      dataDir: join(dir, 'data'),
    })
    register(mesh)
    let full: unknown
    const pad = 'x'.repeat(400)
    for (let i = 0; i < 20_000 && full === undefined; i += concurrency) {
      await Promise.all(
        Array.from({ length: concurrency }, async (_, k) => {
          calls++
          try {
            const result = await mesh.call(
              'acme.com/disk/pay',
              { i: i + k, pad },
              { idempotencyKey: `k-${i + k}`, lease: LEASE },
            )
            succeeded.push(result.invocationId)
          } catch (err) {
            full ??= err
            if (!isMeshError(err, 'E_LEDGER_WRITE'))
              problems.push(`a call failed with ${(err as Error)?.name}: ${(err as Error)?.message}`)
          }
        }),
      )
    }
    if (full === undefined) problems.push(`the ledger never filled up in ${calls} calls`)
    else if (!isMeshError(full, 'E_LEDGER_WRITE'))
      problems.push(`a full disk failed the call with ${(full as Error)?.name}: ${(full as Error)?.message}`)
    else if (!/disk space/.test((full as Error).message))
      problems.push('the E_LEDGER_WRITE message does not say to check disk space')
    // Every later write is refused the same way (nothing is written past a failed batch).
    for (let i = 0; i < 3; i++) {
      calls++
      try {
        const result = await mesh.call(
          'acme.com/disk/pay',
          { i: 10_000 + i, pad },
          { idempotencyKey: `after-${i}`, lease: LEASE },
        )
        succeeded.push(result.invocationId)
        problems.push('a call succeeded after the ledger refused a write')
      } catch (err) {
        if (!isMeshError(err, 'E_LEDGER_WRITE') && !isMeshError(err, 'E_LEDGER_CLOSED'))
          problems.push(
            `a call after the full disk failed with ${(err as Error)?.name}: ${(err as Error)?.message}`,
          )
      }
    }
    try {
      await mesh.close()
    } catch (err) {
      if (!isMeshError(err))
        problems.push(`closing after a full disk threw ${(err as Error)?.name}: ${(err as Error)?.message}`)
    }
    if (succeeded.length === 0) problems.push('no call succeeded before the disk filled up')
    const audit = await auditLedger(path, succeeded)
    return {
      fault: 'ledger disk full',
      checked: `quota ${quota / 1024} KiB, ${concurrency} at once: ${succeeded.length} paid calls until the disk filled`,
      calls,
      lost: audit.lost,
      doubleCharges: audit.doubleCharges,
      brokeDeadline: 0,
      staleServed: 0,
      problems: [...problems, ...audit.problems],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
