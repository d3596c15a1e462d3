import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, governedFunction } from 'function-mesh'

const mesh = await createMesh({ dataDir: await mkdtemp(join(tmpdir(), 'fmesh-')) }) // ledger: <dataDir>/ledger.sqlite

governedFunction(
  {
    name: 'acme.com/text/upper',
    version: '1.0.0',
    idempotency: 'idempotent',
    inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    cost: { unit: 'USDC', baseUnits: '250' },
  },
  (input: { text: string }, ctx) => {
    ctx.reportQuantity(2n) // bills two units of work (the caller reserves up to maxQuantity)
    return { text: input.text.toUpperCase() }
  },
).register(mesh.marketplace)

const lease = await mesh.leases.grant({
  capabilities: ['acme.com/**'],
  budgets: { USDC: 1000n },
  ttlMs: 60_000,
})
const first = await mesh.call(
  'acme.com/text/upper@^1',
  { text: 'hi' },
  { lease: lease.id, idempotencyKey: 'k1', maxQuantity: 2n },
)
const again = await mesh.call(
  'acme.com/text/upper@^1',
  { text: 'hi' },
  { lease: lease.id, idempotencyKey: 'k1', maxQuantity: 2n },
)
console.log(first.output, first.charge.amount, again.replayed) // -> { text: 'HI' } 500n true

console.log((await mesh.leases.get(lease.id)).balances.USDC?.available) // -> 500n
console.log((await mesh.billing.usage({ by: 'function' }))[0]?.amount) // -> 500n
console.log((await mesh.lineage.verify()).ok) // -> true

await mesh.call('acme.com/text/upper', { text: 'x' }, { lease: lease.id, maxQuantity: 3n }).catch((err) => {
  console.log(err.code) // -> E_BUDGET_EXCEEDED (750 reserved > 500 left), refused before the handler runs
})
await mesh.close()
