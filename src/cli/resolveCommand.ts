import { defineCommand } from 'citty'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

/** `fmesh resolve NAME`: resolve a name through the configured registries and print the answer. */
export const resolveCommand = defineCommand({
  meta: {
    name: 'resolve',
    description: 'Resolve NAME[@VERSION] and show the version, providers and where it came from',
  },
  args: {
    ...commonArgs,
    name: { type: 'positional', description: 'e.g. acme.com/image/sharpen@^1.2', required: true },
    'include-deprecated': {
      type: 'boolean',
      description: 'Let ranges pick deprecated and yanked versions',
      default: false,
    },
  },
  async run({ args }) {
    const { out, configPath } = context(args)
    const { mesh } = await openMesh(configPath, { readOnly: true })
    try {
      const r = await mesh.resolve(args.name, { includeDeprecated: args['include-deprecated'] === true })
      const result = {
        name: r.name,
        version: r.version,
        recordId: r.recordId,
        source: r.source,
        verified: r.verified,
        providers: r.providers,
        descriptor: r.descriptor,
        report: r.report,
      }
      out.result(result, () => {
        out.line(`${r.name}@${r.version}`)
        out.line(`  record    ${r.recordId}`)
        out.line(`  source    ${r.source.kind}${'registry' in r.source ? ` ${r.source.registry}` : ''}`)
        if (r.verified.method === 'signature') {
          out.line(
            `  verified  seq ${r.verified.seq}, signed by ${r.verified.keyId} (${r.verified.trustSource})`,
          )
        }
        for (const p of r.providers) {
          const cost = p.cost ? `${p.cost.baseUnits} ${p.cost.unit} base units` : 'no cost given'
          out.line(
            `  provider  ${p.id.padEnd(20)} ${p.endpoint}  (${cost}${p.avgResponseTimeMs === undefined ? '' : `, ~${p.avgResponseTimeMs} ms`})`,
          )
        }
        for (const o of r.report ?? [])
          out.line(`  registry  ${o.registry}: ${o.status}${o.error ? ` ${o.error.code}` : ''}`)
      })
    } finally {
      await mesh.close()
    }
  },
})
