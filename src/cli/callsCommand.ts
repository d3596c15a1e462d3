import { defineCommand } from 'citty'
import { isMeshError } from '../errors/base.js'
import { UsageError } from '../errors/cli.js'
import type { RecentCall } from '../ledger/recentCalls.js'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

function parseLimit(text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000)
    throw new UsageError(
      `--limit must be a whole number from 1 to 10000, not ${text}`,
      { flag: '--limit', value: text },
      'For example `fmesh calls --limit 50`.',
    )
  return n
}

const charge = (c: RecentCall) =>
  c.charge === null ? '-' : c.charge.currency === null ? 'free' : `${c.charge.amount} ${c.charge.currency}`

/** `fmesh calls`: the newest invocations in the ledger, with how each ended and what it cost. */
export const callsCommand = defineCommand({
  meta: {
    name: 'calls',
    description:
      'List recent calls, newest first: outcome, function@version, provider, principal, charge, duration, error',
  },
  args: {
    ...commonArgs,
    failed: { type: 'boolean', description: 'Only calls that failed', default: false },
    limit: { type: 'string', description: 'At most this many calls', default: '20' },
    function: { type: 'string', description: 'Only calls of this function (namespace/path, no version)' },
    principal: { type: 'string', description: 'Only calls made by this principal' },
  },
  async run({ args }) {
    const { out, configPath } = context(args)
    const limit = parseLimit(args.limit)
    let opened: Awaited<ReturnType<typeof openMesh>>
    try {
      opened = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
    } catch (err) {
      if (!isMeshError(err, 'E_LEDGER_MISSING')) throw err
      // No call was ever made with this data dir: none to list, and asking creates nothing.
      out.result({ calls: [] }, () => out.line('0 calls (no ledger yet)'))
      return
    }
    const { mesh } = opened
    try {
      const calls = await mesh.lineage.recent({
        limit,
        failed: args.failed === true,
        ...(args.function ? { function: args.function } : {}),
        ...(args.principal ? { principal: args.principal } : {}),
      })
      out.result({ calls }, () => {
        for (const c of calls) {
          const when = new Date(c.startedAt).toISOString().replace('T', ' ').slice(0, 19)
          const took = c.durationMs === null ? 'running' : `${c.durationMs} ms`
          out.line(
            `${when}  ${c.outcome.padEnd(9)}  ${`${c.function}@${c.version}`.padEnd(36)}  ${c.provider.padEnd(12)}  ${c.principal.padEnd(10)}  ${charge(c).padStart(12)}  ${took.padStart(9)}${c.attempts > 1 ? `  ${c.attempts} attempts` : ''}${c.error === null ? '' : `  ${c.error.code}`}`,
          )
          out.line(`    ${c.invocation}`)
        }
        out.line(`${calls.length} call${calls.length === 1 ? '' : 's'}`)
      })
    } finally {
      await mesh.close()
    }
  },
})
