import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { createMesh } from '../mesh.js'
import { demoRegistries } from '../preset/demoRegistries.js'
import type { RecordDraft } from '../record/schema.js'
import { signRecord } from '../record/signRecord.js'
import type { Registry } from '../registry/types.js'
import type { ResolveResult } from '../resolve/types.js'
import { generateSigner } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import { runCallSteps } from './_demoCalls.js'
import { prepareDemoDir } from './_demoDir.js'
import { type DemoPeers, runPeerSteps } from './_demoPeers.js'
import type { Output } from './_output.js'

/** One resolve the demo made, as printed and as returned with --json. */
export interface DemoStep {
  query: string
  ok: boolean
  version?: string
  source?: string
  verified?: string
  error?: { code: string; message: string }
  report?: string[]
  ms: number
}

/** `fmesh demo` (and `npm start`): a real end-to-end run on embedded defaults. */
export const demoCommand = defineCommand({
  meta: { name: 'demo', description: 'Publish signed records to the embedded registries and resolve them' },
  args: {
    ...commonArgs,
    dir: {
      type: 'string',
      description:
        'Keep the embedded registries in this directory after the run (new or empty; one an earlier demo used is cleared first)',
    },
  },
  async run({ args }) {
    const { out } = context(args)
    out.result(await runDemo(out, args.dir === undefined ? {} : { dir: args.dir }))
  },
})

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

/** Runs the demo, printing each step to `out`; returns the steps. */
export async function runDemo(
  out: Output,
  options: { dir?: string } = {},
): Promise<{ steps: DemoStep[]; peers: DemoPeers } & Awaited<ReturnType<typeof runCallSteps>>> {
  // The demo's keys are new each run, so its registries must start empty: a --dir from an earlier
  // run is cleared (and a directory that holds anything else is refused).
  if (options.dir !== undefined) await prepareDemoDir(options.dir)
  const publisher = await generateSigner()
  const mallory = await generateSigner()
  const trust = { owners: { 'acme.com': [publisher.id], 'image-processing': [publisher.id] } }
  const embedded = await demoRegistries({ ...options, signer: publisher })
  const mesh = await createMesh({ registries: embedded.registries, trust, dataDir: embedded.dataDir })
  const registries: readonly Registry[] = mesh.registries
  try {
    out.line(
      'function-mesh demo: publish signed records, resolve them (showing where each answer came from), select providers, call them',
    )
    out.line()
    out.line(`publisher key   ${publisher.id}  (owns acme.com, image-processing)`)
    for (const line of embedded.describe) out.line(`registry        ${line}`)
    out.line()

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
    const [first, second] = registries
    const mirror = second ?? first!
    // The mirror holds an older copy of sharpen: federation must pick the newer one.
    const older = await mesh.publish(
      { ...sharpen, versions: { '1.2.0': sharpen.versions['1.2.0']! }, latestVersion: '1.2.0' },
      { signer: publisher, to: mirror.id },
    )
    out.line(
      `publish  ${older.name.padEnd(32)} seq ${older.seq}  ${older.id.slice(0, 20)}...  -> ${older.receipts.map((r) => r.registry).join(', ')}`,
    )
    for (const record of [
      sharpen,
      draft(
        'acme.com/image/blur',
        { '0.9.0': { cost: '3000', ms: 90 }, '1.0.0': { cost: '4000', ms: 80 } },
        '1.0.0',
      ),
      draft('image-processing/resize', { '3.1.0': { cost: '2500', ms: 60 } }, '3.1.0'),
    ]) {
      const result = await mesh.publish(record, { signer: publisher, to: first!.id })
      out.line(
        `publish  ${result.name.padEnd(32)} seq ${result.seq}  ${result.id.slice(0, 20)}...  -> ${result.receipts.map((r) => r.registry).join(', ')}`,
      )
    }
    // Someone who does not own acme.com writes a higher-seq record straight into the mirror.
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
      `forged   ${'acme.com/image/blur'.padEnd(32)} seq 99 signed by a stranger, written straight into ${mirror.id}`,
    )
    mesh.marketplace.register(
      { name: 'acme.com/text/upper', version: '1.1.0', description: 'Upper-case text' },
      (input: { text: string }) => ({
        text: input.text.toUpperCase(),
      }),
    )
    out.line(`local    ${'acme.com/text/upper'.padEnd(32)} 1.1.0 registered in the in-process marketplace`)
    out.line()

    const steps: DemoStep[] = []
    for (const query of [
      'acme.com/image/sharpen@^1.2',
      'acme.com/image/sharpen@^1.2',
      'acme.com/image/sharpen',
      'acme.com/image/sharpen@~1.0',
      'acme.com/image/sharpen@1.0.0',
      'acme.com/image/sharpen@^2.0.0-beta',
      'acme.com/image/blur@>=0.9 <2',
      'image-processing/resize@3',
      'acme.com/text/upper@^1',
      'acme.com/image/missing',
    ]) {
      const step = await resolveStep(mesh.resolve.bind(mesh), query)
      steps.push(step)
      printStep(out, step)
    }
    out.line()
    out.line(
      `${steps.filter((s) => s.ok).length} of ${steps.length} resolved; refusals and misses are shown with their error codes.`,
    )
    out.line()
    const called = await runCallSteps(mesh, out, publisher)
    out.line()
    const peers = await runPeerSteps(out, publisher)
    return { steps, ...called, peers }
  } finally {
    await mesh.close()
    await embedded.cleanup()
  }
}

async function resolveStep(resolve: (q: string) => Promise<ResolveResult>, query: string): Promise<DemoStep> {
  const start = process.hrtime.bigint()
  try {
    const r = await resolve(query)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    const source =
      r.source.kind === 'marketplace'
        ? 'marketplace (in-process)'
        : r.source.kind === 'registry'
          ? `registry ${r.source.registry}`
          : `cache (from ${r.source.registry}${r.source.stale ? ', stale' : ''})`
    const verified =
      r.verified.method === 'local'
        ? 'local function'
        : `signed by ${r.verified.keyId.slice(0, 20)}... (${r.verified.trustSource}), seq ${r.verified.seq}`
    const step: DemoStep = { query, ok: true, version: r.version, source, verified, ms }
    if (r.report)
      step.report = r.report.map(
        (o) =>
          `${o.registry}: ${o.status}${o.seq === undefined ? '' : ` seq ${o.seq}`}${o.error ? ` ${o.error.code}` : ''}`,
      )
    return step
  } catch (err) {
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (!(err instanceof MeshError)) throw err
    return { query, ok: false, error: { code: err.code, message: err.shortMessage }, ms }
  }
}

function printStep(out: Output, step: DemoStep): void {
  const head = `resolve  ${step.query.padEnd(36)}`
  if (step.ok) {
    out.line(`${head} -> ${step.version!.padEnd(13)} from ${step.source}  [${step.ms.toFixed(3)} ms]`)
    out.line(`${''.padEnd(48)}verified: ${step.verified}`)
    if (step.report) out.line(`${''.padEnd(48)}registries: ${step.report.join('; ')}`)
  } else {
    out.line(`${head} -> ${step.error!.code}: ${step.error!.message}`)
  }
}
