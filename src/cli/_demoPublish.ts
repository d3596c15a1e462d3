import type { ChainRegistry } from '../../registries/chain/types.js'
import type { Mesh } from '../mesh.js'
import type { RecordDraft } from '../record/schema.js'
import { signRecord } from '../record/signRecord.js'
import type { Signer } from '../trust/signer.js'
import type { Output } from './_output.js'

/** A namespace the demo claimed on the chain, as returned with --json. */
export interface DemoClaim {
  namespace: string
  owner: string
  keys: string[]
  block: number
}

/** One record the demo published, as returned with --json. */
export interface DemoPublished {
  name: string
  seq: number
  id: string
  to: string[]
}

/** The registries every honest publish goes to; the mirror only ever gets the tampered copies. */
export const HONEST = ['git', 'ipfs', 'chain'] as const

function draft(
  name: string,
  versions: Record<string, { deprecated?: boolean; cost: string; ms: number }>,
  latest: string,
): RecordDraft {
  const descriptor = {
    inputSchema: { type: 'object', required: ['image'] },
    outputSchema: { type: 'object', required: ['image'] },
    maxRisk: 'read-only' as const,
    idempotency: 'idempotent' as const,
    allowedByDefault: true,
    maxDurationMs: 5000,
  }
  return {
    name,
    description: `Demo function ${name}`,
    latestVersion: latest,
    versions: Object.fromEntries(
      Object.entries(versions).map(([version, v]) => [
        version,
        {
          deprecated: v.deprecated ?? false,
          yanked: false,
          descriptor,
          providers: [
            {
              id: `demo-${version.replace(/\W/g, '-')}`,
              endpoint: `https://provider.example/${name}/${version}`,
              slaTier: 'standard',
              cost: { unit: 'USDC', baseUnits: v.cost },
              avgResponseTimeMs: v.ms,
            },
          ],
        },
      ]),
    ),
  }
}

/**
 * The publisher's half of the demo: claim the namespaces on the chain and add the publisher key
 * there (the chain is then where readers learn who may sign for them), publish signed records to
 * Git, IPFS and the chain, then tamper: an older signed copy of sharpen in the mirror (a rollback)
 * and a record for acme.com signed by a stranger written there too (a forgery).
 */
export async function runPublishSteps(
  mesh: Mesh,
  out: Output,
  keys: { publisher: Signer; mallory: Signer },
): Promise<{ claims: DemoClaim[]; published: DemoPublished[] }> {
  const { publisher, mallory } = keys
  const chain = mesh.registry<ChainRegistry>('chain')
  const claims: DemoClaim[] = []
  for (const namespace of ['acme.com', 'image-processing']) {
    await chain.claim(namespace)
    const tx = await chain.addPublisher(namespace, publisher.id)
    const held = (await chain.namespace(namespace))!
    claims.push({ namespace, owner: held.owner, keys: [...held.publishers], block: tx.blockNumber })
    out.line(
      `claim    ${namespace.padEnd(32)} on chain by ${held.owner.slice(0, 12)}..., publisher key added (block ${tx.blockNumber})`,
    )
  }
  out.line()

  const published: DemoPublished[] = []
  const show = (p: { name: string; seq: number; id: string; receipts: readonly { registry: string }[] }) => {
    const to = p.receipts.map((r) => r.registry)
    published.push({ name: p.name, seq: p.seq, id: p.id, to })
    out.line(`publish  ${p.name.padEnd(32)} seq ${p.seq}  ${p.id.slice(0, 20)}...  -> ${to.join(', ')}`)
  }
  const sharpen = draft(
    'acme.com/image/sharpen',
    {
      '1.0.0': { deprecated: true, cost: '5000', ms: 400 },
      '1.2.0': { cost: '10000', ms: 150 },
      '1.4.1': { cost: '8000', ms: 120 },
      '2.0.0-beta.1': { cost: '1', ms: 50 },
    },
    '1.4.1',
  )
  // Seq 1 of sharpen, kept aside: it goes into the mirror later, after seq 2 is out.
  const older = await mesh.publish(
    { ...sharpen, versions: { '1.2.0': sharpen.versions['1.2.0']! }, latestVersion: '1.2.0' },
    { signer: publisher, to: [...HONEST] },
  )
  show(older)
  for (const record of [
    sharpen,
    draft(
      'acme.com/image/blur',
      { '0.9.0': { cost: '3000', ms: 90 }, '1.0.0': { cost: '4000', ms: 80 } },
      '1.0.0',
    ),
    draft('image-processing/resize', { '3.1.0': { cost: '2500', ms: 60 } }, '3.1.0'),
  ])
    show(await mesh.publish(record, { signer: publisher, to: [...HONEST] }))

  // A rollback: the mirror serves sharpen's seq 1, validly signed but older than the seq 2 readers saw.
  const mirror = mesh.registry('mirror')
  await mirror.publish(older)
  out.line(
    `rollback ${'acme.com/image/sharpen'.padEnd(32)} seq ${older.seq} (old, validly signed) written straight into mirror`,
  )
  // A forgery: someone who does not own acme.com writes a higher-seq record straight into the mirror
  // (the IPFS, Git and chain registries check a record's signer on write and refuse it there).
  const forged = await signRecord(
    {
      ...draft('acme.com/image/blur', { '9.9.9': { cost: '1', ms: 1 } }, '9.9.9'),
      namespace: 'acme.com',
      seq: 99,
      issuedAt: new Date().toISOString(),
      ttlSeconds: 300,
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      signatures: [],
    },
    mallory,
  )
  await mirror.publish(forged)
  out.line(
    `forged   ${'acme.com/image/blur'.padEnd(32)} seq 99 signed by a stranger, written straight into mirror`,
  )
  mesh.marketplace.register(
    { name: 'acme.com/text/upper', version: '1.1.0', description: 'Upper-case text' },
    (input: { text: string }) => ({ text: input.text.toUpperCase() }),
  )
  out.line(`local    ${'acme.com/text/upper'.padEnd(32)} 1.1.0 registered in the in-process marketplace`)
  out.line()
  return { claims, published }
}
