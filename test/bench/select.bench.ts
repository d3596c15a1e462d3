import { HealthTracker } from '../../src/health/HealthTracker.js'
import { createMesh } from '../../src/mesh.js'
import type { Provider } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { securityContext } from '../../src/security/SecurityContext.js'
import { Selector } from '../../src/select/Selector.js'
import { seededRandom } from '../../src/select/seededRandom.js'
import { generateSigner } from '../../src/trust/signer.js'
import { draft, provider } from '../_helpers/selectDrafts.js'
import { measure, ratio, report, target } from './_harness.js'

const providers = (n: number): Provider[] =>
  Array.from({ length: n }, (_, i) => provider(`p${i}`, String(1000 + ((i * 7919) % 1000)), 10 + (i % 50)))

/** Feeds a few outcomes per provider so strategies read real stats. */
function warmHealth(health: HealthTracker, list: readonly Provider[]): void {
  list.forEach((p, i) => {
    for (let k = 0; k < 3; k++) health.begin(p).success(10 + ((i * 13 + k) % 40))
  })
}

export default async function bench(): Promise<void> {
  // Through the mesh: a warm resolve (cached) then filtering and the strategy. Records hold at most
  // 64 providers per version, so the mesh path runs 3, 30 and 64.
  const signer = await generateSigner()
  const random = seededRandom(1)
  const mesh = await createMesh({
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [signer.id] } },
    random,
  })
  const ctx = securityContext({
    level: 'controlled',
    allowedFunctionPatterns: ['acme.com/bench/**'],
    allowedProviders: ['p*'],
  })
  const sizes = [3, 30, 64]
  for (const n of sizes) {
    await mesh.publish(draft(`acme.com/bench/n${n}`, { providers: providers(n) }), { signer })
    warmHealth(mesh.health, providers(n))
    await mesh.select(`acme.com/bench/n${n}`, ctx)
  }
  const resolve3 = await measure(
    'baseline warm mesh.resolve (3 providers)',
    () => mesh.resolve('acme.com/bench/n3'),
    {
      batch: 10_000,
    },
  )
  report(resolve3)
  const meshFigures = []
  for (const n of sizes) {
    const name = `acme.com/bench/n${n}`
    const lb = await measure(`warm mesh.select load-balance, ${n} candidates`, () => mesh.select(name, ctx), {
      batch: 10_000,
    })
    const cost = await measure(
      `warm mesh.select lowest-cost, ${n} candidates`,
      () => mesh.select(name, ctx, { strategy: 'lowest-cost' }),
      { batch: 10_000 },
    )
    report(lb)
    report(cost)
    ratio(`select lb ${n} / resolve`, lb, resolve3)
    ratio(`select lowest-cost ${n} / resolve`, cost, resolve3)
    meshFigures.push(lb)
  }
  target('warm mesh.select with 3 candidates', meshFigures[0]!.opsPerSec, 500_000, 'ops/s')
  await mesh.close()

  // The selector alone (synchronous), over synthetic resolutions of 3, 30 and 300 candidates: shows
  // the cost grows linearly at most. One run with a circuit open exercises the health pass.
  const health = new HealthTracker()
  const selector = new Selector({ health, clock: { now: () => Date.now() }, random: seededRandom(2) })
  const base = await synthetic(3)
  const figures = []
  for (const n of [3, 30, 300]) {
    const resolved = await synthetic(n)
    warmHealth(health, resolved.providers)
    figures.push(
      await measure(`Selector.select load-balance, ${n} candidates`, () => selector.select(resolved, ctx), {
        batch: 10_000,
      }),
    )
    figures.push(
      await measure(
        `Selector.select lowest-cost, ${n} candidates`,
        () => selector.select(resolved, ctx, { strategy: 'lowest-cost' }),
        { batch: 10_000 },
      ),
    )
  }
  const r300 = await synthetic(300)
  for (let k = 0; k < 5; k++) health.begin(r300.providers[7]!).failure(1)
  const open = await measure(
    'Selector.select load-balance, 300, one circuit open',
    () => selector.select(r300, ctx),
    {
      batch: 10_000,
    },
  )
  for (const f of [...figures, open]) report(f)
  ratio('lb 3 / warm resolve', figures[0]!, resolve3)
  ratio('lb 300 / lb 3 (100x candidates)', figures[4]!, figures[0]!)
  ratio('lowest-cost 300 / lowest-cost 3', figures[5]!, figures[1]!)
  ratio('lb 300, circuit open / lb 300', open, figures[4]!)
  void base
}

async function synthetic(n: number) {
  const list = providers(n)
  const descriptor = {
    maxRisk: 'read-only' as const,
    idempotency: 'idempotent' as const,
    allowedByDefault: false,
  }
  return Object.freeze({
    name: `acme.com/bench/s${n}`,
    version: '1.0.0',
    record: {
      name: `acme.com/bench/s${n}`,
      namespace: 'acme.com',
      versions: { '1.0.0': { providers: list, descriptor, deprecated: false, yanked: false } },
      seq: 1,
      issuedAt: '2026-01-01T00:00:00Z',
      ttlSeconds: 300,
      expiresAt: '2027-01-01T00:00:00Z',
      signatures: [],
    },
    recordId: `synthetic-${n}`,
    descriptor,
    providers: list,
    source: { kind: 'marketplace' as const },
    verified: { method: 'local' as const },
  })
}
