import { createMesh, generateSigner, memoryRegistry } from 'function-mesh'

const publisher = await generateSigner() // an ed25519 key; publisher.id is its did:key
const mesh = await createMesh({
  registries: [memoryRegistry()],
  trust: { owners: { 'acme.com': [publisher.id] } },
})

// Fills seq, issuedAt, ttlSeconds and expiresAt, signs, checks, writes to every registry.
await mesh.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: {
      '1.2.0': {
        descriptor: { maxRisk: 'read-only', idempotency: 'idempotent' },
        providers: [
          { id: 'p1', endpoint: 'https://p1.example/sharpen', cost: { unit: 'USDC', baseUnits: '10000' } },
        ],
      },
      '1.3.0': {
        deprecated: true,
        descriptor: { maxRisk: 'read-only', idempotency: 'idempotent' },
        providers: [{ id: 'p2', endpoint: 'https://p2.example/sharpen' }],
      },
    },
  },
  { signer: publisher },
)

const first = await mesh.resolve('acme.com/image/sharpen@^1.2')
console.log(first.version, first.providers[0]?.id, first.source.kind, first.verified.method)
// -> 1.2.0 p1 registry signature   (1.3.0 is deprecated: skipped unless asked for exactly)

const again = await mesh.resolve('acme.com/image/sharpen@^1.2')
console.log(again.source.kind) // -> cache

await mesh.close()
