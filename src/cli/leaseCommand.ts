import { defineCommand } from 'citty'
import { isMeshError } from '../errors/base.js'
import type { LeaseInfo } from '../ledger/LeaseBook.js'
import { UsageError } from './_argv.js'
import { commonArgs, context, nodeArgs, offline } from './_context.js'
import { nodeFor } from './_nodeApi.js'
import { openMesh } from './_openMesh.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90s`, `15m`, `1h`, `7d` or plain milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim())
  const ms = m === null ? Number.NaN : Number(m[1]) * UNITS[m[2] ?? 'ms']!
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new UsageError(
      `${flag} must be a duration like 90s, 15m, 1h or 7d, not ${text}`,
      { flag, value: text },
      'Units: ms, s, m, h, d.',
    )
  return ms
}

/** `USDC=1000000,ETH=5`: a budget per currency, in integer base units. */
export function parseBudgets(text: string): Record<string, string> {
  const budgets: Record<string, string> = {}
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]{1,16})=(0|[1-9][0-9]*)$/.exec(part)
    if (m === null)
      throw new UsageError(
        `--budget ${part} is not CURRENCY=AMOUNT`,
        { flag: '--budget', value: part },
        'Give integer base units per currency, comma-separated: --budget USDC=1000000,ETH=5.',
      )
    budgets[m[1]!] = m[2]!
  }
  if (Object.keys(budgets).length === 0)
    throw new UsageError('--budget names no currency', { flag: '--budget' }, 'e.g. --budget USDC=1000000')
  return budgets
}

function show(out: ReturnType<typeof context>['out'], lease: LeaseInfo, via?: string): void {
  out.line(`lease ${lease.id}${lease.revoked ? ' (revoked)' : ''}${via === undefined ? '' : ` via ${via}`}`)
  out.line(`  may call  ${lease.capabilities.join(', ')}`)
  out.line(`  expires   ${new Date(lease.expiresAt).toISOString()}`)
  for (const [currency, b] of Object.entries(lease.balances))
    out.line(
      `  ${currency.padEnd(9)} ${b.available} of ${b.budget} left (${b.spent} spent, ${b.reserved} held)`,
    )
}

const asJson = (lease: LeaseInfo) => ({
  ...lease,
  expiresAt: new Date(lease.expiresAt).toISOString(),
})

/** `fmesh lease grant | list | show | revoke`: capabilities and budgets for calls (`fmesh call --lease ID`). */
export const leaseCommand = defineCommand({
  meta: {
    name: 'lease',
    description: 'Grant, list, show and revoke leases: what calls may run and what they may spend',
  },
  subCommands: {
    grant: defineCommand({
      meta: { name: 'grant', description: 'Grant a lease; pass its id to `fmesh call --lease ID`' },
      args: {
        ...commonArgs,
        ...nodeArgs,
        capabilities: {
          type: 'string',
          description: 'Function-name globs it may call, comma-separated (acme.com/**,beta.org/text/*)',
          required: true,
        },
        budget: {
          type: 'string',
          description: 'Per currency, integer base units: USDC=1000000,ETH=5',
          required: true,
        },
        ttl: { type: 'string', description: 'How long it works: 90s, 15m, 1h, 7d', default: '1h' },
        id: { type: 'string', description: 'Your own id for it (default: a random one)' },
      },
      async run({ args }) {
        const { out, configPath, json } = context(args)
        const capabilities = args.capabilities
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        const budgets = parseBudgets(args.budget)
        const ttlMs = parseDuration('--ttl', args.ttl)
        const node = await nodeFor(configPath, { offline: offline(args), json })
        if (node !== undefined) {
          const lease = await node.request<LeaseInfo>('POST', '/v1/leases', {
            capabilities,
            budgets,
            ttlMs,
            ...(args.id ? { id: args.id } : {}),
          })
          out.result({ ...asJson(lease), via: node.via }, () => show(out, lease, node.via))
          return
        }
        const { mesh } = await openMesh(configPath, { ledgerOnly: true, createLedger: true })
        try {
          const lease = await mesh.leases.grant({
            capabilities,
            budgets,
            ttlMs,
            ...(args.id ? { id: args.id } : {}),
          })
          out.result({ ...asJson(lease), via: 'local' }, () => show(out, lease))
        } finally {
          await mesh.close()
        }
      },
    }),
    list: defineCommand({
      meta: { name: 'list', description: 'Every lease in the ledger: id, state, expiry, what it may call' },
      args: {
        ...commonArgs,
        all: { type: 'boolean', description: 'Include revoked and expired leases', default: false },
      },
      async run({ args }) {
        const { out, configPath } = context(args)
        let opened: Awaited<ReturnType<typeof openMesh>>
        try {
          opened = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        } catch (err) {
          if (!isMeshError(err, 'E_LEDGER_MISSING')) throw err
          // No ledger yet: no leases, and asking creates nothing.
          out.result({ leases: [] }, () => out.line('0 leases (no ledger yet)'))
          return
        }
        const { mesh } = opened
        try {
          const now = Date.now()
          const leases = (await mesh.leases.list()).filter(
            (l) => args.all === true || (!l.revoked && l.expiresAt > now),
          )
          out.result({ leases: leases.map(asJson) }, () => {
            for (const l of leases) {
              const state = l.revoked ? 'revoked' : l.expiresAt <= now ? 'expired' : 'live'
              const left = Object.entries(l.balances)
                .map(([currency, b]) => `${b.available}/${b.budget} ${currency}`)
                .join(', ')
              out.line(
                `${l.id}  ${state.padEnd(7)}  ${new Date(l.expiresAt).toISOString()}  ${left}  ${l.capabilities.join(',')}`,
              )
            }
            out.line(
              `${leases.length} lease${leases.length === 1 ? '' : 's'}${args.all ? '' : ' (--all for revoked and expired)'}`,
            )
          })
        } finally {
          await mesh.close()
        }
      },
    }),
    show: defineCommand({
      meta: { name: 'show', description: "A lease's capabilities, expiry and balances" },
      args: { ...commonArgs, id: { type: 'positional', description: 'The lease id', required: true } },
      async run({ args }) {
        const { out, configPath } = context(args)
        const { mesh } = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        try {
          const lease = await mesh.leases.get(args.id)
          out.result(asJson(lease), () => show(out, lease))
        } finally {
          await mesh.close()
        }
      },
    }),
    revoke: defineCommand({
      meta: { name: 'revoke', description: 'Revoke a lease: calls holding it are refused from now on' },
      args: {
        ...commonArgs,
        ...nodeArgs,
        id: { type: 'positional', description: 'The lease id', required: true },
      },
      async run({ args }) {
        const { out, configPath, json } = context(args)
        const node = await nodeFor(configPath, { offline: offline(args), json })
        if (node !== undefined) {
          await node.request('POST', `/v1/leases/${encodeURIComponent(args.id)}/revoke`, {})
          out.result({ id: args.id, revoked: true, via: node.via }, () =>
            out.line(`revoked ${args.id} via ${node.via}`),
          )
          return
        }
        const { mesh } = await openMesh(configPath, { ledgerOnly: true })
        try {
          await mesh.leases.revoke(args.id)
          out.result({ id: args.id, revoked: true, via: 'local' }, () => out.line(`revoked ${args.id}`))
        } finally {
          await mesh.close()
        }
      },
    }),
  },
})
