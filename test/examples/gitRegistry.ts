import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMesh, generateSigner } from 'function-mesh'
import { type GitRegistry, gitRegistry } from 'function-mesh/registries/git'

const signer = await generateSigner()
const owners = { 'acme.com': [signer.id] }
const git = gitRegistry({
  dir: join(await mkdtemp(join(tmpdir(), 'fmesh-')), 'registry.git'), // bare repository, created if missing
  // url: 'https://git.example.com/records.git',                       // a remote to clone, fetch and push
  // headers: { Authorization: `Bearer ${process.env.GIT_TOKEN}` },
  signer, // signs the registry's commits
  syncIntervalMs: 0, // sync only when asked (default: every 60 s)
})
// The mesh makes the registry with its components: records are checked with the mesh's trust.
const mesh = await createMesh({ registries: [git], trust: { owners } })
const registry = mesh.registry<GitRegistry>('git')

const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' } as const
const published = await mesh.publish(
  {
    name: 'acme.com/image/sharpen',
    versions: { '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] } },
  },
  { signer },
)
console.log(published.receipts[0]?.location?.replace(/[0-9a-f]{40}/, 'COMMIT'))
// -> git:COMMIT:records/acme.com/image/sharpen.json

const report = await registry.sync() // fetch now: { commit, changed, removed, skipped, rewritten, commits }
console.log(report.skipped.length, registry.status().names) // -> 0 1

await mesh.close()
