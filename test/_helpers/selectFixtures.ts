import { providerKey } from '../../src/health/HealthTracker.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { MeshInit } from '../../src/meshOptions.js'
import type { Provider, RecordDraft } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { type StaticStatsInit, staticStats } from '../../src/select/staticStats.js'
import type { Candidate } from '../../src/select/types.js'
import { generateSigner } from '../../src/trust/signer.js'
import { fakeClock } from './clock.js'
import { closeAfter } from './closeAfter.js'

export { type DraftInit, draft, provider } from './selectDrafts.js'

/** A mesh over a memory registry with the drafts published, on a fake clock. */
export async function meshWith(drafts: RecordDraft[], init: MeshInit = {}): Promise<Mesh> {
  const signer = await generateSigner()
  const namespaces = [...new Set(drafts.map((d) => d.name.split('/')[0]!))]
  const mesh = await createMesh({
    registries: [memoryRegistry()],
    trust: { owners: Object.fromEntries(namespaces.map((ns) => [ns, [signer.id]])) },
    clock: fakeClock(),
    ...init,
  })
  closeAfter(mesh)
  for (const d of drafts) await mesh.publish(d, { signer })
  return mesh
}

/** A crafted candidate with fixed stats. */
export function candidate(p: Provider, stats: StaticStatsInit = {}): Candidate {
  return {
    provider: p,
    key: providerKey(p),
    stats: staticStats(stats),
    cost: p.cost === undefined ? 0n : BigInt(p.cost.baseUnits),
    unit: p.cost?.unit,
  }
}
