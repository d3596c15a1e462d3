import { defineCommand } from 'citty'
import { isMeshError } from '../errors/base.js'
import { CallInterruptedError, InputNotJsonError, UsageError } from '../errors/cli.js'
import type { CallResult } from '../invoke/types.js'
import { commonArgs, context, interrupt, nodeArgs, offline } from './_context.js'
import { type NodeClient, nodeFor } from './_nodeApi.js'
import { openMesh } from './_openMesh.js'
import { ProgressLine } from './_progress.js'

/** What `fmesh call` prints: the same whether the call ran here or on the node. */
interface CallShown {
  output: unknown
  provider: { id: string; endpoint: string }
  version: string
  invocationId: string
  attempts: number
  replayed: boolean
  lineage: CallResult['lineage']
  charge: { readonly amount: string | bigint; readonly currency: string | null }
}

interface CallAsked {
  name: string
  input: unknown
  timeoutMs: number | undefined
  idempotencyKey: string | undefined
  principal: string | undefined
  lease: string | undefined
}

/** The call on the node running on the data dir (its `/v1/call`, as the admin token). */
async function callOnNode(node: NodeClient, a: CallAsked): Promise<CallShown> {
  return node.request<CallShown>('POST', '/v1/call', {
    name: a.name,
    input: a.input,
    ...(a.timeoutMs === undefined ? {} : { timeoutMs: a.timeoutMs }),
    ...(a.idempotencyKey ? { idempotencyKey: a.idempotencyKey } : {}),
    ...(a.principal ? { principal: a.principal } : {}),
    ...(a.lease ? { lease: a.lease } : {}),
  })
}

/** The call in this process, on the data dir itself. */
async function callHere(
  configPath: string | undefined,
  a: CallAsked,
  line: ProgressLine,
): Promise<CallShown> {
  const { mesh } = await openMesh(configPath, { readOnly: true, onSyncProgress: line.onSync })
  try {
    const r = await mesh.call(a.name, a.input, {
      signal: interrupt.signal,
      ...(a.timeoutMs === undefined ? {} : { timeoutMs: a.timeoutMs }),
      ...(a.idempotencyKey ? { idempotencyKey: a.idempotencyKey } : {}),
      ...(a.principal ? { principal: a.principal } : {}),
      ...(a.lease ? { lease: a.lease } : {}),
    })
    return {
      output: r.output,
      provider: { id: r.provider.id, endpoint: r.provider.endpoint },
      version: r.version,
      invocationId: r.invocationId,
      attempts: r.attempts,
      replayed: r.replayed,
      lineage: r.lineage,
      charge: r.charge,
    }
  } finally {
    await mesh.close()
  }
}

/** The charge line: a replay is never charged again, so it says so rather than show a charge. */
function chargeText(r: CallShown): string {
  const { amount, currency } = r.charge
  const first = currency === null ? 'free' : `${amount} ${currency}`
  return r.replayed ? `none: replayed, not charged again (the first call: ${first})` : first
}

function parseInput(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InputNotJsonError('The --input value is not JSON', {
      details: { input: text.slice(0, 120), reason: (err as Error).message },
      hint: `Quote it for the shell: --input '{"text":"hi"}'`,
      cause: err,
    })
  }
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const ms = Number(text)
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(`--timeout must be a positive whole number of milliseconds, not ${text}`, {
      flag: '--timeout',
      value: text,
    })
  }
  return ms
}

/** `fmesh call NAME --input JSON`: a governed call, with its lineage and charge. */
export const callCommand = defineCommand({
  meta: {
    name: 'call',
    description: 'Call NAME[@VERSION] under governance and print the output, lineage and charge',
  },
  args: {
    ...commonArgs,
    ...nodeArgs,
    name: { type: 'positional', description: 'e.g. acme.com/image/sharpen@^1.2', required: true },
    input: { type: 'string', description: 'The input as JSON', default: '{}' },
    'idempotency-key': {
      type: 'string',
      description: 'Runs at most once for this key (required for exactly-once functions)',
    },
    timeout: { type: 'string', description: 'Deadline for the whole call in ms, every attempt included' },
    principal: { type: 'string', description: 'Who is calling (scopes idempotency keys and usage)' },
    lease: { type: 'string', description: 'A lease id whose budget pays for the call' },
  },
  async run({ args }) {
    const { out, configPath, json } = context(args)
    const asked: CallAsked = {
      name: args.name,
      input: parseInput(args.input),
      timeoutMs: parseTimeout(args.timeout),
      idempotencyKey: args['idempotency-key'],
      principal: args.principal,
      lease: args.lease,
    }
    const node = await nodeFor(configPath, { offline: offline(args), json })
    // One line for the call, with the registries' sync (the resolve before it) shown inside it.
    const line = new ProgressLine(`calling ${args.name}${node ? ` via ${node.via}` : ''}`, {
      json,
      deadlineMs: asked.timeoutMs,
    })
    let r: CallShown
    try {
      r = node === undefined ? await callHere(configPath, asked, line) : await callOnNode(node, asked)
    } catch (err) {
      if (interrupt.signal.aborted) throw new CallInterruptedError(args.name, err)
      throw err
    } finally {
      line.stop()
    }
    const via = node?.via ?? 'local'
    out.result({ ...r, via }, () => {
      out.line(JSON.stringify(r.output, null, 2))
      out.line(`  provider    ${r.provider.id} (${r.provider.endpoint}), version ${r.version}`)
      out.line(
        `  invocation  ${r.invocationId}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${r.replayed ? ', replayed' : ''}`,
      )
      out.line(`  lineage     completed ${r.lineage.completed}`)
      out.line(`  charge      ${chargeText(r)}`)
      if (node !== undefined) out.line(`  via         ${node.via}`)
    })
  },
})

/** `fmesh usage`: charges summed by provider, function or principal. */
export const usageCommand = defineCommand({
  meta: { name: 'usage', description: 'Sum charges by provider, function or principal' },
  args: {
    ...commonArgs,
    by: {
      type: 'enum',
      options: ['provider', 'function', 'principal'],
      default: 'function',
      description: 'What to group by',
    },
    since: { type: 'string', description: 'Only charges at or after this date-time (ISO 8601)' },
  },
  async run({ args }) {
    const { out, configPath } = context(args)
    const since = args.since === undefined ? undefined : Date.parse(args.since)
    if (since !== undefined && Number.isNaN(since)) {
      throw new UsageError(`--since must be an ISO 8601 date-time, not ${args.since}`, {
        flag: '--since',
        value: args.since,
      })
    }
    let opened: Awaited<ReturnType<typeof openMesh>>
    try {
      opened = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
    } catch (err) {
      if (!isMeshError(err, 'E_LEDGER_MISSING')) throw err
      // Nothing was ever called with this data dir: no usage, and nothing is created by asking.
      out.result({ by: args.by, rows: [] }, () => out.line('0 rows (no ledger yet)'))
      return
    }
    const { mesh } = opened
    try {
      const rows = await mesh.billing.usage({
        by: args.by as 'provider' | 'function' | 'principal',
        ...(since === undefined ? {} : { since }),
      })
      out.result({ by: args.by, rows }, () => {
        for (const row of rows)
          out.line(
            `${row.key.padEnd(40)} ${String(row.amount).padStart(16)} ${row.currency ?? '-'}  (${row.calls} call${row.calls === 1 ? '' : 's'})`,
          )
        out.line(`${rows.length} row${rows.length === 1 ? '' : 's'}`)
      })
    } finally {
      await mesh.close()
    }
  },
})
