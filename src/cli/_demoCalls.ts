import type { CallResult } from '../invoke/types.js'
import type { Mesh } from '../mesh.js'
import { securityContext } from '../security/SecurityContext.js'
import { STRATEGY_NAMES } from '../select/types.js'
import type { Signer } from '../trust/signer.js'
import { attempt, type DemoAction, printAction, transportOf } from './_demoAction.js'
import { startDemoMcpServer } from './_demoMcp.js'
import { startDemoProviders } from './_demoProvider.js'
import type { DemoPublished } from './_demoPublish.js'
import type { Output } from './_output.js'

/** The failover the demo provoked: the provider that fell over, the one that answered, the trail. */
export interface DemoFailover {
  failed: string
  answeredBy: string
  attempts: number
  /** The call's lineage entries in log order: `TYPE provider #attempt`. */
  trail: string[]
}

/** What the calls part returns with --json. */
export interface DemoCalls {
  /** The records this part published (the functions it calls). */
  callRecords: DemoPublished[]
  actions: DemoAction[]
  failover: DemoFailover
  usage: unknown
  /** Each currency's total: summed from the calls' own charges, and as the ledger's usage says. */
  charges: { currency: string | null; fromCalls: string; fromUsage: string }[]
  lineage: { ok: boolean; entries: number; completed: number; charges: number }
}

const TEXT = { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 1000 } } }

function charged(r: CallResult): DemoAction['charge'] {
  return { amount: r.replayed ? '0' : r.charge.amount.toString(), currency: r.charge.currency }
}

function callAction(r: CallResult, detail?: string): Omit<DemoAction, 'what' | 'ok'> {
  const charge = charged(r)!
  const cost = charge.currency === null ? 'free' : `charged ${charge.amount} ${charge.currency} base units`
  return {
    provider: r.provider.id,
    output: r.output,
    charge,
    attempts: r.attempts,
    transport: transportOf(r.provider.endpoint),
    invocation: r.invocationId,
    detail: `${detail ?? (r.replayed ? 'replayed from the ledger: no second run, no second charge' : cost)}; lineage ${r.invocationId}`,
  }
}

/**
 * The second half of the demo: providers over HTTP and MCP (on 127.0.0.1) beside the in-process one,
 * with different costs and latencies; selections under every strategy and under security contexts;
 * governed calls (idempotency, schema checks); one provider falling over and the mesh failing over;
 * then the bill, checked against the calls' own charges, and the lineage verified.
 */
export async function runCallSteps(mesh: Mesh, out: Output, publisher: Signer): Promise<DemoCalls> {
  const http = await startDemoProviders()
  const mcp = await startDemoMcpServer()
  try {
    const descriptor = {
      inputSchema: TEXT,
      outputSchema: { type: 'object', required: ['text'] },
      maxRisk: 'read-only' as const,
      idempotency: 'idempotent' as const,
      // Generous: a loaded machine must not turn the demo's calls into deadline failures.
      maxDurationMs: 15_000,
    }
    const usd = (baseUnits: string) => ({ unit: 'USDC', baseUnits })
    const reverse = await mesh.publish(
      {
        name: 'acme.com/text/reverse',
        description: 'Reverse text',
        versions: {
          '1.0.0': {
            descriptor,
            providers: [
              { id: 'fast', endpoint: http.url('/fast'), cost: usd('3000'), avgResponseTimeMs: 2 },
              { id: 'cheap', endpoint: http.url('/cheap'), cost: usd('1000'), avgResponseTimeMs: 40 },
              { id: 'tools', endpoint: mcp.endpoint('reverse'), cost: usd('2000'), avgResponseTimeMs: 10 },
            ],
          },
        },
      },
      { signer: publisher, to: ['git', 'ipfs', 'chain'] },
    )
    out.line(
      `publish  ${reverse.name.padEnd(32)} seq ${reverse.seq}  providers: fast (HTTP, 3000, ~2 ms), cheap (HTTP, 1000, ~40 ms), tools (MCP, 2000, ~10 ms)`,
    )
    const words = await mesh.publish(
      {
        name: 'acme.com/text/words',
        description: 'Count words',
        versions: {
          '1.0.0': {
            descriptor: { ...descriptor, outputSchema: { type: 'object', required: ['words'] } },
            providers: [{ id: 'tools', endpoint: mcp.endpoint('words'), cost: usd('500') }],
          },
        },
      },
      { signer: publisher, to: ['git', 'ipfs', 'chain'] },
    )
    out.line(
      `publish  ${words.name.padEnd(32)} seq ${words.seq}  provider: tools (an MCP tool over streamable HTTP, 500)`,
    )
    out.line()

    const actions: DemoAction[] = []
    const step = async (what: string, run: () => Promise<Omit<DemoAction, 'what' | 'ok'>>) => {
      const action = await attempt(what, run)
      actions.push(action)
      printAction(out, action)
      return action
    }
    for (const strategy of STRATEGY_NAMES)
      await step(`select reverse, ${strategy}`, async () => {
        const r = await mesh.select('acme.com/text/reverse', undefined, { strategy })
        return { provider: r.provider.id, reason: r.reason }
      })
    const agent = securityContext({
      level: 'controlled',
      allowedFunctionPatterns: ['acme.com/text/*'],
      allowedProviders: ['fast'],
    })
    await step('select reverse, agent may use only "fast"', async () => {
      const r = await mesh.select('acme.com/text/reverse', agent, { strategy: 'lowest-cost' })
      return { provider: r.provider.id, reason: r.reason }
    })
    await step('select reverse, pure context', async () => {
      const r = await mesh.select('acme.com/text/reverse', { level: 'pure' })
      return { provider: r.provider.id, reason: r.reason }
    })
    out.line()

    await step('call upper (in-process)', async () =>
      callAction(await mesh.call('acme.com/text/upper@^1', { text: 'hello mesh' })),
    )
    for (const n of [1, 2])
      await step(`call reverse over HTTP, key demo-1 (#${n})`, async () =>
        callAction(
          await mesh.call(
            'acme.com/text/reverse',
            { text: 'function-mesh' },
            { idempotencyKey: 'demo-1', select: { strategy: 'lowest-cost' } },
          ),
        ),
      )
    await step('call words over MCP', async () =>
      callAction(await mesh.call('acme.com/text/words', { text: 'one name, many providers' })),
    )
    await step('call reverse with input the schema refuses', async () => {
      await mesh.call('acme.com/text/reverse', { words: 3 })
      return {}
    })

    // Mid-run, the cheapest provider falls over: the next call fails over to the next-cheapest.
    http.fail('/cheap')
    out.line(`down     cheap (HTTP) now answers 503 to every request`)
    const failed = await step('call reverse, lowest-cost, cheap is down', async () => {
      const r = await mesh.call(
        'acme.com/text/reverse',
        { text: 'failover' },
        { select: { strategy: 'lowest-cost' } },
      )
      return callAction(
        r,
        `failed over after ${r.attempts - 1} failed attempt(s), charged ${r.charge.amount} ${r.charge.currency} once`,
      )
    })
    const trail = failed.invocation === undefined ? [] : await mesh.lineage.entries(failed.invocation)
    const failover: DemoFailover = {
      failed: 'cheap',
      answeredBy: failed.provider ?? '(none)',
      attempts: failed.attempts ?? 0,
      trail: trail.map(({ entry: e }) => `${e.type} ${e.provider} #${e.attempt}`),
    }
    out.line(`${''.padEnd(50)}lineage: ${failover.trail.join(' -> ')}`)
    out.line()

    const usage = await mesh.billing.usage({ by: 'provider' })
    for (const row of usage)
      out.line(
        `usage    ${row.key.padEnd(32)} ${row.amount} ${row.currency ?? '(free)'} over ${row.calls} call${row.calls === 1 ? '' : 's'}`,
      )
    const charges = addUp(actions, usage)
    for (const c of charges)
      out.line(
        `bill     ${String(c.currency ?? '(free)').padEnd(32)} ${c.fromUsage} in the ledger, ${c.fromCalls} from the calls' own charges${c.fromUsage === c.fromCalls ? ': they add up' : ': MISMATCH'}`,
      )
    const report = await mesh.lineage.verify()
    out.line(
      `lineage  ${report.ok ? 'verified' : 'FAILED'}: ${report.entries} entries, ${report.completed} completed, ${report.charges} charges, root ${report.root.slice(0, 16)}...`,
    )
    const callRecords = [reverse, words].map((p) => ({
      name: p.name,
      seq: p.seq,
      id: p.id,
      to: p.receipts.map((r) => r.registry),
    }))
    return {
      callRecords,
      actions,
      failover,
      usage,
      charges,
      lineage: {
        ok: report.ok,
        entries: report.entries,
        completed: report.completed,
        charges: report.charges,
      },
    }
  } finally {
    await http.close()
    await mcp.close()
  }
}

function addUp(
  actions: readonly DemoAction[],
  usage: readonly { currency: string | null; amount: bigint }[],
): DemoCalls['charges'] {
  const fromCalls = new Map<string | null, bigint>()
  for (const a of actions)
    if (a.charge !== undefined)
      fromCalls.set(a.charge.currency, (fromCalls.get(a.charge.currency) ?? 0n) + BigInt(a.charge.amount))
  const fromUsage = new Map<string | null, bigint>()
  for (const row of usage) fromUsage.set(row.currency, (fromUsage.get(row.currency) ?? 0n) + row.amount)
  return [...new Set([...fromCalls.keys(), ...fromUsage.keys()])].map((currency) => ({
    currency,
    fromCalls: (fromCalls.get(currency) ?? 0n).toString(),
    fromUsage: (fromUsage.get(currency) ?? 0n).toString(),
  }))
}
