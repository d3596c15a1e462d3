// A process that makes governed calls against a ledger file until it is killed. Run by the crash
// soak (test/_helpers/crashSoak.ts): `node --import tsx crashChild.ts <ledger> <execLog> <start> <replayFrom>`.
// Each handler appends one line to the execution log before it returns, so the parent can count
// real executions per idempotency key after SIGKILLs at random points.
import { appendFileSync } from 'node:fs'
import { governedFunction } from '../../src/invoke/governedFunction.js'
import { createMesh } from '../../src/mesh.js'

const [ledgerPath, execLog, startArg, replayArg] = process.argv.slice(2)
const start = Number(startArg)
const replayFrom = Number(replayArg)
const LEASE = 'crash-lease'

const mesh = await createMesh({ ledger: { path: ledgerPath!, checkpointEvery: 64 } })
const log = (line: string) => appendFileSync(execLog!, `${line}\n`)
governedFunction(
  {
    name: 'acme.com/crash/pay',
    version: '1.0.0',
    idempotency: 'exactly-once',
    maxRisk: 'irreversible',
    cost: { unit: 'USDC', baseUnits: '5' },
  },
  async (input: { i: number }, ctx) => {
    log(`pay ${ctx.idempotencyKey}`)
    await Promise.resolve()
    return { paid: input.i }
  },
).register(mesh.marketplace)
governedFunction(
  {
    name: 'acme.com/crash/send',
    version: '1.0.0',
    idempotency: 'at-least-once',
    maxRisk: 'mutation',
    cost: { unit: 'USDC', baseUnits: '3' },
  },
  (input: { i: number }, ctx) => {
    log(`send ${ctx.idempotencyKey}`)
    return { sent: input.i }
  },
).register(mesh.marketplace)
governedFunction(
  {
    name: 'acme.com/crash/read',
    version: '1.0.0',
    idempotency: 'idempotent',
    maxRisk: 'read-only',
    cost: { unit: 'USDC', baseUnits: '1' },
  },
  (input: { i: number }) => ({ read: input.i }),
).register(mesh.marketplace)

try {
  await mesh.leases.get(LEASE)
} catch {
  await mesh.leases.grant({
    id: LEASE,
    capabilities: ['acme.com/crash/*'],
    budgets: { USDC: 10n ** 30n },
    ttlMs: 86_400_000,
  })
}

const swallow = (err: unknown) => {
  const code = (err as { code?: string }).code
  // Refusals the ledger is right to give after a crash (the earlier attempt may have run).
  if (code === 'E_IDEMPOTENCY_OUTCOME_UNKNOWN') return
  throw err
}
const round = (i: number) =>
  Promise.all([
    mesh.call('acme.com/crash/pay', { i }, { idempotencyKey: `p-${i}`, lease: LEASE }).catch(swallow),
    mesh.call('acme.com/crash/send', { i }, { idempotencyKey: `s-${i}`, lease: LEASE }).catch(swallow),
    mesh.call('acme.com/crash/read', { i }, { lease: LEASE }),
  ])

// Re-issue the keys of the run before: completed ones must replay, interrupted ones must be refused.
for (let i = replayFrom; i < replayFrom + 24 && replayFrom >= 0; i += 8)
  await Promise.all(Array.from({ length: 8 }, (_, k) => round(i + k)))
process.stdout.write('ready\n')
for (let i = start; ; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => round(i + k)))
