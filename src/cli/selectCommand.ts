import { defineCommand } from 'citty'
import type { SecurityContextInit } from '../security/SecurityContext.js'
import { STRATEGY_NAMES, type StrategyName } from '../select/types.js'
import { commonArgs, context } from './_context.js'
import { jsonArg } from './_jsonArg.js'
import { openMesh } from './_openMesh.js'

/** `fmesh select NAME`: which provider a call would use, the candidates, and why the others are out. */
export const selectCommand = defineCommand({
  meta: {
    name: 'select',
    description: 'Show which provider a call to NAME would use, the candidates and what removed the others',
  },
  args: {
    ...commonArgs,
    name: { type: 'positional', description: 'e.g. acme.com/image/sharpen@^1.2', required: true },
    strategy: { type: 'enum', options: [...STRATEGY_NAMES], description: 'How to pick among candidates' },
    context: {
      type: 'string',
      description: 'The caller\'s security context as JSON or @FILE, e.g. {"level":"full"}',
    },
  },
  async run({ args }) {
    const { out, configPath } = context(args)
    const securityContext =
      args.context === undefined
        ? undefined
        : ((await jsonArg('--context', args.context)) as SecurityContextInit)
    const { mesh } = await openMesh(configPath, { readOnly: true })
    try {
      const now = Date.now()
      const r = await mesh.select(args.name, securityContext, {
        ...(args.strategy === undefined ? {} : { strategy: args.strategy as StrategyName }),
      })
      const candidates = r.candidates.map((c) => ({
        id: c.provider.id,
        endpoint: c.provider.endpoint,
        cost: c.unit === undefined ? null : { amount: String(c.cost), unit: c.unit },
        declaredMs: c.provider.avgResponseTimeMs ?? null,
        observedMs: c.stats.latencyMs(now) ?? null,
        successRatio: c.stats.successRatio(now) ?? null,
        inFlight: c.stats.inFlight,
      }))
      const removed = r.removed.map((x) => ({
        id: x.provider.id,
        because: x.violations.map((v) => ({ rule: v.rule, scope: v.scope, message: v.message })),
      }))
      out.result(
        {
          name: r.name,
          version: r.version,
          provider: r.provider,
          strategy: r.strategy,
          reason: r.reason,
          candidates,
          removed,
        },
        () => {
          out.line(`${r.name}@${r.version}: ${r.provider.id} (${r.provider.endpoint})`)
          out.line(`  why        ${r.reason}`)
          for (const c of candidates)
            out.line(
              `  candidate  ${c.id.padEnd(20)} ${c.cost === null ? 'free' : `${c.cost.amount} ${c.cost.unit}`}${c.declaredMs === null ? '' : `, ~${c.declaredMs} ms declared`}${c.observedMs === null ? '' : `, ${c.observedMs.toFixed(0)} ms observed`}`,
            )
          for (const x of removed)
            out.line(
              `  removed    ${x.id.padEnd(20)} ${x.because.map((b) => `${b.rule} (${b.scope})`).join(', ')}`,
            )
        },
      )
    } finally {
      await mesh.close()
    }
  },
})
