import { createMesh, generateSigner, MeshError, memoryRegistry, securityContext } from 'function-mesh'

const publisher = await generateSigner()
const mesh = await createMesh({
  registries: [memoryRegistry()],
  trust: { owners: { 'acme.com': [publisher.id] } },
  strategy: 'lowest-cost', // or 'fastest', 'highest-availability', 'load-balance' (default), 'weighted'
})
await mesh.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: {
      '1.0.0': {
        descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', requiredPermissions: ['image.read'] },
        providers: [
          {
            id: 'fast',
            endpoint: 'https://fast.example/sharpen',
            cost: { unit: 'USDC', baseUnits: '9000' },
            avgResponseTimeMs: 40,
          },
          {
            id: 'cheap',
            endpoint: 'https://cheap.example/sharpen',
            cost: { unit: 'USDC', baseUnits: '2000' },
            avgResponseTimeMs: 300,
          },
          {
            id: 'unvetted',
            endpoint: 'https://unvetted.example/sharpen',
            cost: { unit: 'USDC', baseUnits: '1' },
          },
        ],
      },
    },
  },
  { signer: publisher },
)

// What this caller may reach. Build it once: select memoizes filtering per context object.
const agent = securityContext({
  level: 'controlled',
  allowedFunctionPatterns: ['acme.com/image/*'],
  allowedProviders: ['fast', 'cheap'],
  grantedPermissions: ['image.*'],
})

const cheapest = await mesh.select('acme.com/image/sharpen@^1', agent)
console.log(
  cheapest.provider.id,
  cheapest.removed.map((r) => `${r.provider.id}: ${r.violations[0]?.rule}`).join(),
)
// -> cheap unvetted: context.allowedProviders

const quick = await mesh.select('acme.com/image/sharpen@^1', agent, { strategy: 'fastest' })
console.log(quick.provider.id, quick.reason)
// -> fast fastest: fast at 40 ms (advertised), fastest of 2

// Whoever calls the provider reports the outcome; every strategy then sees live latency, load and failures.
const call = mesh.health.begin(quick.provider)
call.success(35) // or call.failure(ms, 'timeout'); five failures in a row open the circuit

try {
  await mesh.select('acme.com/image/sharpen', { level: 'controlled', allowedProviders: ['fast'] })
} catch (err) {
  if (err instanceof MeshError) console.log(err.code, err.details['provider fast'])
  // -> E_NO_ALLOWED_PROVIDER context.allowedFunctions [call], descriptor.requiredPermissions [call]
}

await mesh.close()
