import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { governedFunction } from '../../src/invoke/governedFunction.js'
import { createMesh } from '../../src/mesh.js'
import { measure, ratio, report, target } from './_harness.js'

// Durable governed calls of a local function (ledger on: FUNCTION_INVOKED committed before the
// handler runs, FUNCTION_COMPLETED + charge committed before the call resolves), against calling the
// same handler directly, in one run.
export default async function callBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-bench-'))
  const mesh = await createMesh({ ledger: { path: join(dir, 'ledger.sqlite') } })
  const upper = governedFunction(
    {
      name: 'acme.com/text/upper',
      version: '1.0.0',
      idempotency: 'idempotent',
      maxRisk: 'read-only',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
      outputSchema: { type: 'object', required: ['text'] },
      cost: { unit: 'USDC', baseUnits: '10' },
    },
    (input: { text: string }) => ({ text: input.text.toUpperCase() }),
  )
  upper.register(mesh.marketplace)
  const input = { text: 'hello world' }
  const ctx = { signal: new AbortController().signal } as never
  try {
    const direct = await measure('handler called directly', () => upper.handler(input, ctx), {
      batch: 10_000,
    })
    report(direct)
    const sequential = await measure(
      'mesh.call, durable, one at a time',
      () => mesh.call('acme.com/text/upper', input),
      {
        batch: 200,
        minMs: 2000,
      },
    )
    report(sequential)
    const inFlight = 256
    const concurrent = await measure(
      `mesh.call, durable, ${inFlight} in flight`,
      () => Promise.all(Array.from({ length: inFlight }, () => mesh.call('acme.com/text/upper', input))),
      { batch: 4, minMs: 2000 },
    )
    const perCall = {
      ...concurrent,
      name: `${concurrent.name} (per call)`,
      opsPerSec: concurrent.opsPerSec * inFlight,
      medianUs: concurrent.medianUs / inFlight,
      ops: concurrent.ops * inFlight,
    }
    report(perCall)
    ratio('durable governed (concurrent) vs direct', perCall, direct)
    ratio('durable governed (sequential) vs direct', sequential, direct)
    const overhead = sequential.medianUs - direct.medianUs
    console.log(`  median overhead per governed call (sequential): ${overhead.toFixed(1)} us`)
    target('durable governed calls/s', perCall.opsPerSec, 20_000, 'calls/s')
    target('median overhead per call', overhead, 50, 'us', false)
    const check = await mesh.lineage.verify()
    console.log(
      `  ledger after the run: ${check.entries} entries, ${check.charges} charges, verify ${check.ok ? 'ok' : 'FAILED'}`,
    )
  } finally {
    await mesh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
