import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { GatewayUnreachableError, UsageError } from '../errors/cli.js'
import { commonArgs, context, interrupt, nodeArgs, offline } from './_context.js'
import { EXIT } from './_exitCodes.js'
import { jsonArg } from './_jsonArg.js'
import { nodeFor } from './_nodeApi.js'
import { openMesh } from './_openMesh.js'

/** One function's outcome, as the gateway's `/v1/dispatch` answers it and as printed with --json. */
interface DispatchRow {
  name: string
  version: string
  ok: boolean
  result?: { output: unknown; invocationId: string; charge: { amount: string; currency: string | null } }
  error?: { code: string; shortMessage?: string; message: string }
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const ms = Number(text)
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > 3_600_000)
    throw new UsageError(`--timeout must be a whole number of milliseconds from 1 to 3600000, not ${text}`, {
      flag: '--timeout',
      value: text,
    })
  return ms
}

function gatewayUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `--gateway must be an http(s) URL, not ${text}`,
      { flag: '--gateway', value: text },
      'Give the URL `fmesh gateway` printed, e.g. --gateway http://127.0.0.1:7420',
    )
  return url
}

/** Asks a running gateway to dispatch; its answer (or error) comes back as is. */
async function viaGateway(
  base: URL,
  token: string | undefined,
  body: Record<string, unknown>,
): Promise<DispatchRow[]> {
  if (token === undefined)
    throw new UsageError(
      'Dispatching through a gateway needs a token with the dispatch scope',
      { flag: '--token' },
      'Pass --token TOKEN or set FMESH_GATEWAY_TOKEN (`fmesh gateway token` makes one).',
    )
  const url = new URL('v1/dispatch', base.href.endsWith('/') ? base : new URL(`${base.href}/`))
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: interrupt.signal,
    })
  } catch (err) {
    if (interrupt.signal.aborted) throw err
    throw new GatewayUnreachableError(url.href, base.href, err)
  }
  const answer = (await res.json().catch(() => undefined)) as
    | {
        results?: DispatchRow[]
        code?: string
        shortMessage?: string
        message?: string
        details?: object
        hint?: string
      }
    | undefined
  if (!res.ok || !Array.isArray(answer?.results)) {
    const code = typeof answer?.code === 'string' ? answer.code : 'E_GATEWAY_ERROR'
    throw new MeshError(
      code,
      `The gateway refused the dispatch (HTTP ${res.status}): ${answer?.shortMessage ?? answer?.message ?? res.statusText}`,
      {
        details: { url: url.href, status: res.status, ...(answer?.details ?? {}) },
        ...(answer?.hint === undefined ? {} : { hint: answer.hint }),
      },
    )
  }
  return answer.results
}

/**
 * `fmesh dispatch KIND --event JSON`: call every local function whose descriptor lists KIND in its
 * triggerEvents. Local functions live in a long-running process (a gateway, a node, your program);
 * this one-shot process registers none, so without --gateway the answer is honestly zero matches.
 */
export const dispatchCommand = defineCommand({
  meta: {
    name: 'dispatch',
    description:
      'Send an event to every local function listening for KIND (through a running gateway with --gateway; this process registers none)',
  },
  args: {
    ...commonArgs,
    ...nodeArgs,
    kind: { type: 'positional', description: 'The trigger event kind, e.g. order.created', required: true },
    event: { type: 'string', description: 'The event as JSON, or @FILE', default: '{}' },
    gateway: {
      type: 'string',
      description: 'Dispatch through the gateway at this URL (`fmesh gateway` prints it)',
    },
    token: { type: 'string', description: 'The gateway bearer token (default $FMESH_GATEWAY_TOKEN)' },
    'idempotency-key': {
      type: 'string',
      description: 'Each function runs at most once for this key (as <key>/<name>@<version>)',
    },
    timeout: { type: 'string', description: 'Deadline of each call in ms' },
  },
  async run({ args }) {
    const { out, configPath, json } = context(args)
    const event = await jsonArg('--event', args.event)
    const timeoutMs = parseTimeout(args.timeout)
    const key = args['idempotency-key']
    let via: string
    let results: DispatchRow[]
    const node =
      args.gateway === undefined ? await nodeFor(configPath, { offline: offline(args), json }) : undefined
    if (node !== undefined) {
      // The node's process holds the functions registered on it, so the event reaches them.
      via = node.via
      results = (
        await node.request<{ results: DispatchRow[] }>('POST', '/v1/dispatch', {
          kind: args.kind,
          event,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(key === undefined ? {} : { idempotencyKey: key }),
        })
      ).results
    } else if (args.gateway !== undefined) {
      const base = gatewayUrl(args.gateway)
      if (key !== undefined)
        throw new UsageError(
          '--idempotency-key is not sent through a gateway',
          { flag: '--idempotency-key' },
          'Drop --idempotency-key, or dispatch from a program that holds the functions.',
        )
      via = base.href
      results = await viaGateway(base, args.token ?? process.env.FMESH_GATEWAY_TOKEN, {
        kind: args.kind,
        event,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      })
    } else {
      via = 'local'
      // The mesh checks KIND and the event as any dispatch does; its marketplace is empty here.
      const { mesh } = await openMesh(configPath, { ledgerOnly: true, createLedger: true })
      try {
        const local = await mesh.dispatch(args.kind, event, {
          signal: interrupt.signal,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(key === undefined ? {} : { idempotencyKey: key }),
        })
        results = local.map((r) =>
          r.ok
            ? {
                name: r.name,
                version: r.version,
                ok: true,
                result: {
                  output: r.result.output,
                  invocationId: r.result.invocationId,
                  charge: { amount: String(r.result.charge.amount), currency: r.result.charge.currency },
                },
              }
            : {
                name: r.name,
                version: r.version,
                ok: false,
                error: { code: (r.error as MeshError).code ?? 'E_INTERNAL', message: r.error.message },
              },
        )
      } finally {
        await mesh.close()
      }
    }
    out.result({ kind: args.kind, via, results }, () => {
      for (const r of results)
        out.line(
          r.ok
            ? `ok      ${r.name}@${r.version}  invocation ${r.result?.invocationId}  charge ${r.result?.charge.currency === null ? 'free' : `${r.result?.charge.amount} ${r.result?.charge.currency}`}`
            : `failed  ${r.name}@${r.version}  ${r.error?.code}: ${r.error?.shortMessage ?? r.error?.message}`,
        )
      if (results.length === 0 && via === 'local')
        out.line(
          `0 functions handle ${args.kind} here: this command registers no local functions. Dispatch to a running gateway with --gateway URL.`,
        )
      else
        out.line(
          `${results.length} function${results.length === 1 ? '' : 's'} handled ${args.kind}${via === 'local' ? '' : ` via ${via}`}`,
        )
    })
    if (results.some((r) => !r.ok)) process.exitCode = EXIT.failure
  },
})
