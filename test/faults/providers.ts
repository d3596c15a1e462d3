// Fault: providers that are slow, failing, hanging, flapping or answering garbage, as real HTTP
// servers on 127.0.0.1. Every call settles within its deadline (plus a grace for a loaded machine),
// fails with a MeshError when no provider answered well, and the ledger charges exactly the calls
// that returned a result.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh } from '../../src/mesh.js'
import type { RecordDraft } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner } from '../../src/trust/signer.js'
import { startHttpProvider } from '../_helpers/httpProvider.js'
import { auditLedger, type FaultReport } from './_audit.js'

/** Past its deadline, how long a call may take to settle before it counts as having broken it. */
export const DEADLINE_GRACE_MS = 2000

/** The provider behaviours, by route of the test HTTP provider, and whether a call may succeed. */
const BEHAVIOURS: readonly { route: string; canSucceed: boolean }[] = [
  { route: '/ok', canSucceed: true },
  { route: '/slow?ms=50', canSucceed: true },
  { route: '/slow?ms=5000', canSucceed: false },
  { route: '/hang', canSucceed: false },
  { route: '/fail', canSucceed: false },
  { route: '/refuse', canSucceed: false },
  { route: '/flaky?n=3', canSucceed: true },
  { route: '/wrong-schema', canSucceed: false },
  { route: '/not-json', canSucceed: false },
  { route: '/oversized', canSucceed: false },
  { route: '/oversized-chunked', canSucceed: false },
]

export async function providerFaults(
  options: { rounds?: number; timeoutMs?: number } = {},
): Promise<FaultReport> {
  const rounds = options.rounds ?? 3
  const timeoutMs = options.timeoutMs ?? 500
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-fault-providers-'))
  const server = await startHttpProvider()
  const signer = await generateSigner()
  const path = join(dir, 'ledger.sqlite')
  const problems: string[] = []
  const succeeded: string[] = []
  let brokeDeadline = 0
  let calls = 0
  const mesh = await createMesh({
    ledger: { path },
    dataDir: join(dir, 'data'),
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [signer.id] } },
  })
  try {
    const names: { name: string; canSucceed: boolean }[] = []
    for (const [i, b] of BEHAVIOURS.entries()) {
      const name = `acme.com/prov/b${i}`
      names.push({ name, canSucceed: b.canSucceed })
      const draft: RecordDraft = {
        name,
        versions: {
          '1.0.0': {
            descriptor: {
              inputSchema: { type: 'object', required: ['image'] },
              outputSchema: { type: 'object', required: ['image'] },
              maxRisk: 'read-only',
              idempotency: 'idempotent',
              maxDurationMs: 10_000,
            },
            providers: [
              { id: `p${i}`, endpoint: server.url(b.route), cost: { unit: 'USDC', baseUnits: '3' } },
            ],
          },
        },
      }
      await mesh.publish(draft, { signer })
    }
    // A bad provider first and a good one second: the call fails over and is charged once.
    await mesh.publish(
      {
        name: 'acme.com/prov/failover',
        versions: {
          '1.0.0': {
            descriptor: {
              inputSchema: { type: 'object' },
              outputSchema: { type: 'object', required: ['image'] },
              maxRisk: 'read-only',
              idempotency: 'idempotent',
            },
            providers: [
              { id: 'bad', endpoint: server.url('/fail'), cost: { unit: 'USDC', baseUnits: '1' } },
              { id: 'good', endpoint: server.url('/ok'), cost: { unit: 'USDC', baseUnits: '9' } },
            ],
          },
        },
      },
      { signer },
    )
    names.push({ name: 'acme.com/prov/failover', canSucceed: true })
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        names.map(async ({ name, canSucceed }) => {
          calls++
          const started = performance.now()
          try {
            const result = await mesh.call(`${name}@1.0.0`, { image: `r${round}` }, { timeoutMs })
            succeeded.push(result.invocationId)
            if (!canSucceed) problems.push(`${name} succeeded against a provider that cannot answer well`)
          } catch (err) {
            if (!isMeshError(err))
              problems.push(`${name} failed with a non-MeshError: ${(err as Error)?.stack}`)
          } finally {
            const elapsed = performance.now() - started
            if (elapsed > timeoutMs + DEADLINE_GRACE_MS) {
              brokeDeadline++
              problems.push(`${name} settled after ${Math.round(elapsed)} ms, deadline ${timeoutMs} ms`)
            }
          }
        }),
      )
    }
  } finally {
    await mesh.close()
    await server.close()
  }
  try {
    const audit = await auditLedger(path, succeeded)
    return {
      fault: 'providers slow, failing, hanging, flapping, garbage',
      checked: `${calls} calls over ${BEHAVIOURS.length + 1} provider behaviours (deadline ${timeoutMs} ms); charges audited`,
      calls,
      lost: audit.lost,
      doubleCharges: audit.doubleCharges,
      brokeDeadline,
      staleServed: 0,
      problems: [...problems, ...audit.problems],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
