import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, governedFunction } from 'function-mesh'
import { generateToken, httpGateway } from 'function-mesh/gateway'

const { token, tokenHash } = generateToken() // give the token to the client; configure only its hash
const gateway = httpGateway({
  port: 0, // a free port on 127.0.0.1 (the default is 7420)
  tokens: [{ tokenHash, principal: 'billing-app', context: { level: 'full' } }],
})
const mesh = await createMesh({ dataDir: await mkdtemp(join(tmpdir(), 'fmesh-')), services: [gateway] })
governedFunction(
  { name: 'acme.com/text/upper', version: '1.0.0', cost: { unit: 'USDC', baseUnits: '250' } },
  (input: { text: string }) => ({ text: input.text.toUpperCase() }),
).register(mesh.marketplace)

const call = () =>
  fetch(`${gateway.url}/v1/call`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': 'order-1',
    },
    body: JSON.stringify({ name: 'acme.com/text/upper@^1', input: { text: 'hi' } }),
  })
const first = (await (await call()).json()) as { output: unknown; charge: { amount: string } }
const again = await call() // the same key: the first result, not charged again
console.log(first.output, first.charge.amount, again.headers.get('idempotency-replayed')) // { text: 'HI' } 250 true

const missing = await fetch(`${gateway.url}/v1/resolve?name=acme.com/no/such`)
console.log(missing.status, ((await missing.json()) as { code: string }).code) // 404 E_FUNCTION_NOT_FOUND
await mesh.close()
