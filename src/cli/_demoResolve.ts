import { MeshError } from '../errors/base.js'
import type { Mesh } from '../mesh.js'
import type { ResolveResult } from '../resolve/types.js'
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

/** A registry's answer the resolver refused (forged, rolled back), as returned with --json. */
export interface DemoRefusal {
  name: string
  registry: string
  status: string
  code: string
  message: string
}

const QUERIES = [
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
]

/**
 * Resolves names and ranges from the federated registries, printing for each the version, where
 * the answer came from (registry, cache or the in-process marketplace), who signed it, and what the
 * other registries said; then lists every registry answer the resolver refused, with its code.
 */
export async function runResolveSteps(
  mesh: Mesh,
  out: Output,
): Promise<{ steps: DemoStep[]; refusals: DemoRefusal[] }> {
  const steps: DemoStep[] = []
  const refusals: DemoRefusal[] = []
  for (const query of QUERIES) {
    const { step, refused } = await resolveStep(mesh, query)
    steps.push(step)
    refusals.push(...refused)
    printStep(out, step)
  }
  out.line()
  out.line(
    `${steps.filter((s) => s.ok).length} of ${steps.length} resolved; misses are shown with their error codes.`,
  )
  for (const r of refusals)
    out.line(`refused  ${r.name.padEnd(32)} from ${r.registry.padEnd(6)} ${r.code}: ${r.message}`)
  out.line()
  return { steps, refusals }
}

async function resolveStep(mesh: Mesh, query: string): Promise<{ step: DemoStep; refused: DemoRefusal[] }> {
  const start = process.hrtime.bigint()
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6
  let r: ResolveResult
  try {
    r = await mesh.resolve(query)
  } catch (err) {
    if (!(err instanceof MeshError)) throw err
    return {
      step: { query, ok: false, error: { code: err.code, message: err.shortMessage }, ms: elapsed() },
      refused: [],
    }
  }
  const ms = elapsed()
  const source =
    r.source.kind === 'marketplace'
      ? 'marketplace (in-process)'
      : r.source.kind === 'registry'
        ? `registry ${r.source.registry}`
        : `cache (from ${r.source.registry}${r.source.stale ? ', stale' : ''})`
  const verified =
    r.verified.method === 'local'
      ? 'local function'
      : `signed by ${r.verified.keyId.slice(0, 20)}... (keys from ${r.verified.trustSource}), seq ${r.verified.seq}`
  const step: DemoStep = { query, ok: true, version: r.version, source, verified, ms }
  const refused: DemoRefusal[] = []
  if (r.report) {
    step.report = r.report.map(
      (o) =>
        `${o.registry}: ${o.status}${o.seq === undefined ? '' : ` seq ${o.seq}`}${o.error ? ` ${o.error.code}` : ''}`,
    )
    for (const o of r.report)
      if (o.error !== undefined && (o.status === 'invalid' || o.status === 'outdated'))
        refused.push({
          name: r.name,
          registry: o.registry,
          status: o.status,
          code: o.error.code,
          message: firstSentence(o.error.message),
        })
  }
  return { step, refused }
}

function firstSentence(message: string): string {
  const line = message.split('\n')[0] ?? message
  return line.length > 110 ? `${line.slice(0, 107)}...` : line
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
