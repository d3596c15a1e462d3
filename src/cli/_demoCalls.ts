import { MeshError } from '../errors/base.js'
import type { Mesh } from '../mesh.js'
import { securityContext } from '../security/SecurityContext.js'
import type { Signer } from '../trust/signer.js'
import { startDemoProviders } from './_demoProvider.js'
import type { Output } from './_output.js'

/** One select or call the demo made. */
export interface DemoAction {
  what: string
  ok: boolean
  provider?: string
  reason?: string
  output?: unknown
  detail?: string
  error?: { code: string; message: string }
}

/**
 * The second half of the demo: select providers under security contexts and strategies, make
 * governed calls (in-process and over HTTP on 127.0.0.1), then sum the bill and verify the lineage.
 */
export async function runCallSteps(
  mesh: Mesh,
  out: Output,
  publisher: Signer,
): Promise<{ actions: DemoAction[]; usage: unknown; lineage: unknown }> {
  const providers = await startDemoProviders()
  try {
    const descriptor = {
      inputSchema: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', maxLength: 1000 } },
      },
      outputSchema: { type: 'object', required: ['text'] },
      maxRisk: 'read-only' as const,
      idempotency: 'idempotent' as const,
      maxDurationMs: 2000,
    }
    const reverse = await mesh.publish(
      {
        name: 'acme.com/text/reverse',
        description: 'Reverse text',
        versions: {
          '1.0.0': {
            descriptor,
            providers: [
              {
                id: 'fast',
                endpoint: providers.url('/fast'),
                cost: { unit: 'USDC', baseUnits: '3000' },
                avgResponseTimeMs: 2,
              },
              {
                id: 'cheap',
                endpoint: providers.url('/cheap'),
                cost: { unit: 'USDC', baseUnits: '1000' },
                avgResponseTimeMs: 40,
              },
            ],
          },
        },
      },
      { signer: publisher },
    )
    out.line(
      `publish  ${reverse.name.padEnd(32)} seq ${reverse.seq}  two HTTP providers on 127.0.0.1 (fast, cheap)`,
    )
    out.line()

    const actions: DemoAction[] = []
    const agent = securityContext({
      level: 'controlled',
      allowedFunctionPatterns: ['acme.com/text/*'],
      allowedProviders: ['fast'],
    })
    const selections: [string, () => Promise<{ provider: { id: string }; reason: string }>][] = [
      [
        'select reverse, lowest-cost',
        () => mesh.select('acme.com/text/reverse', undefined, { strategy: 'lowest-cost' }),
      ],
      [
        'select reverse, fastest',
        () => mesh.select('acme.com/text/reverse', undefined, { strategy: 'fastest' }),
      ],
      [
        'select reverse, agent may use only "fast"',
        () => mesh.select('acme.com/text/reverse', agent, { strategy: 'lowest-cost' }),
      ],
      ['select reverse, pure context', () => mesh.select('acme.com/text/reverse', { level: 'pure' })],
    ]
    for (const [what, run] of selections) {
      const action = await attempt(what, async () => {
        const r = await run()
        return { provider: r.provider.id, reason: r.reason }
      })
      actions.push(action)
      print(out, action)
    }

    const calls: [string, () => Promise<DemoAction>][] = [
      [
        'call upper (in-process)',
        async () => {
          const r = await mesh.call('acme.com/text/upper@^1', { text: 'hello mesh' })
          return {
            what: '',
            ok: true,
            provider: r.provider.id,
            output: r.output,
            detail: `lineage ${r.lineage.completed.slice(0, 16)}...`,
          }
        },
      ],
      ...[1, 2].map((n): [string, () => Promise<DemoAction>] => [
        `call reverse over HTTP, key demo-1 (#${n})`,
        async () => {
          const r = await mesh.call(
            'acme.com/text/reverse',
            { text: 'function-mesh' },
            { idempotencyKey: 'demo-1', select: { strategy: 'lowest-cost' } },
          )
          const charge =
            r.charge.currency === null ? 'free' : `${r.charge.amount} ${r.charge.currency} base units`
          return {
            what: '',
            ok: true,
            provider: r.provider.id,
            output: r.output,
            detail: `${r.replayed ? 'replayed, no second run or charge' : `charged ${charge}`}`,
          }
        },
      ]),
      [
        'call reverse with input the schema refuses',
        async () => {
          await mesh.call('acme.com/text/reverse', { words: 3 })
          return { what: '', ok: true }
        },
      ],
    ]
    for (const [what, run] of calls) {
      const action = await attempt(what, async () => {
        const { what: _ignored, ok: _ok, ...rest } = await run()
        return rest
      })
      actions.push(action)
      print(out, action)
    }

    const usage = await mesh.billing.usage({ by: 'provider' })
    out.line()
    for (const row of usage)
      out.line(
        `usage    ${row.key.padEnd(32)} ${row.amount} ${row.currency ?? '(free)'} over ${row.calls} call${row.calls === 1 ? '' : 's'}`,
      )
    const report = await mesh.lineage.verify()
    out.line(
      `lineage  ${report.ok ? 'verified' : 'FAILED'}: ${report.entries} entries, ${report.completed} completed, ${report.charges} charges, root ${report.root.slice(0, 16)}...`,
    )
    return {
      actions,
      usage,
      lineage: {
        ok: report.ok,
        entries: report.entries,
        completed: report.completed,
        charges: report.charges,
      },
    }
  } finally {
    await providers.close()
  }
}

async function attempt(
  what: string,
  run: () => Promise<Omit<DemoAction, 'what' | 'ok'>>,
): Promise<DemoAction> {
  try {
    return { what, ok: true, ...(await run()) }
  } catch (err) {
    if (!(err instanceof MeshError)) throw err
    return { what, ok: false, error: { code: err.code, message: err.shortMessage } }
  }
}

function print(out: Output, a: DemoAction): void {
  const head = `${a.what.padEnd(46)}`
  if (!a.ok) {
    out.line(`${head} -> ${a.error!.code}: ${a.error!.message}`)
    return
  }
  const output = a.output === undefined ? '' : ` ${JSON.stringify(a.output)}`
  out.line(`${head} -> ${a.provider}${output}`)
  const note = a.reason ?? a.detail
  if (note) out.line(`${''.padEnd(50)}${note}`)
}
