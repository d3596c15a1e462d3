import { defineCommand } from 'citty'
import { mcpTransport } from '../../mcp/mcpTransport.js'
import { createMesh } from '../mesh.js'
import { demoRegistries } from '../preset/demoRegistries.js'
import { generateSigner } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import { type DemoCalls, runCallSteps } from './_demoCalls.js'
import { prepareDemoDir } from './_demoDir.js'
import { type DemoPeers, runPeerSteps } from './_demoPeers.js'
import { type DemoClaim, type DemoPublished, runPublishSteps } from './_demoPublish.js'
import { type DemoRefusal, type DemoStep, runResolveSteps } from './_demoResolve.js'
import { type DemoSummary, printSummary, summarize } from './_demoSummary.js'
import type { Output } from './_output.js'

export type { DemoStep } from './_demoResolve.js'

/** Everything `fmesh demo --json` prints: each part's steps, and the closing summary. */
export interface DemoResult extends DemoCalls {
  registries: string[]
  claims: DemoClaim[]
  published: DemoPublished[]
  steps: DemoStep[]
  refusals: DemoRefusal[]
  peers: DemoPeers
  summary: DemoSummary
}

/** `fmesh demo` (and `npm start`): a real end-to-end run on embedded defaults. */
export const demoCommand = defineCommand({
  meta: {
    name: 'demo',
    description:
      'Run the whole mesh on embedded defaults: Git, IPFS and chain registries, HTTP, MCP and libp2p providers, three peer nodes',
  },
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

/** Runs the demo, printing each step to `out`; returns what each step did and a summary. */
export async function runDemo(out: Output, options: { dir?: string } = {}): Promise<DemoResult> {
  const started = performance.now()
  // The demo's keys are new each run, so its registries must start empty: a --dir from an earlier
  // run is cleared (and a directory that holds anything else is refused).
  if (options.dir !== undefined) await prepareDemoDir(options.dir)
  const publisher = await generateSigner()
  const mallory = await generateSigner()
  const embedded = await demoRegistries({ ...options, signer: publisher })
  out.line('function-mesh demo: the whole mesh on embedded defaults, in this process, on 127.0.0.1')
  out.line()
  out.line(`publisher key   ${publisher.id}`)
  for (const line of embedded.describe) out.line(`registry        ${line}`)
  out.line()
  // No pinned keys: who may sign for a namespace is what its owner put on the chain.
  const mesh = await createMesh({
    registries: embedded.registries,
    trust: { owners: {} },
    dataDir: embedded.dataDir,
    transports: [mcpTransport()],
  })
  try {
    const { claims, published } = await runPublishSteps(mesh, out, { publisher, mallory })
    const { steps, refusals } = await runResolveSteps(mesh, out)
    const calls = await runCallSteps(mesh, out, publisher)
    out.line()
    const peers = await runPeerSteps(out, publisher)
    const result = {
      registries: mesh.registries.map((r) => r.id),
      claims,
      published,
      steps,
      refusals,
      ...calls,
      peers,
    }
    const summary = summarize(result, performance.now() - started)
    printSummary(out, summary)
    return { ...result, summary }
  } finally {
    await mesh.close()
    await embedded.cleanup()
  }
}
