import type { DemoCalls } from './_demoCalls.js'
import type { DemoPeers } from './_demoPeers.js'
import type { DemoClaim, DemoPublished } from './_demoPublish.js'
import type { DemoRefusal, DemoStep } from './_demoResolve.js'
import type { Output } from './_output.js'

/** The closing summary of `fmesh demo`: one field per claim the demo makes, as --json returns it. */
export interface DemoSummary {
  registries: string[]
  claimed: string[]
  published: { records: number; registries: string[] }
  /** The forged record's refusal code (E_SIGNER_NOT_OWNER), if it was refused. */
  forgedRefused: string | null
  /** The rolled-back record's refusal code (E_SEQ_ROLLBACK), if it was refused. */
  rollbackRefused: string | null
  resolved: { ok: number; of: number }
  /** The provider each strategy chose for acme.com/text/reverse. */
  strategies: Record<string, string>
  calls: { completed: number; refused: number; transports: string[] }
  failover: { from: string; to: string; attempts: number } | null
  charges: { currency: string | null; amount: string }[]
  chargesAddUp: boolean
  lineageVerified: boolean
  peers: { nodes: number; propagationMs: number; libp2pCall: boolean; yankReachedEveryPeer: boolean }
  durationMs: number
}

type Parts = DemoCalls & {
  registries: string[]
  claims: DemoClaim[]
  published: DemoPublished[]
  steps: DemoStep[]
  refusals: DemoRefusal[]
  peers: DemoPeers
}

/** Condenses what each part of the demo returned into its summary. */
export function summarize(parts: Parts, durationMs: number): DemoSummary {
  const refusal = (name: string, code: string) =>
    parts.refusals.find((r) => r.name === name && r.code === code)?.code ?? null
  const strategies: Record<string, string> = {}
  for (const a of parts.actions)
    if (a.what.startsWith('select reverse, ') && !a.what.includes('agent') && !a.what.includes('pure'))
      strategies[a.what.slice('select reverse, '.length)] = a.provider ?? a.error?.code ?? '?'
  const calls = parts.actions.filter((a) => a.what.startsWith('call '))
  const transports = new Set<string>()
  for (const a of calls) if (a.ok && a.transport !== undefined) transports.add(a.transport)
  if (parts.peers.call.provider) transports.add('libp2p')
  const fo = parts.failover
  return {
    registries: parts.registries,
    claimed: parts.claims.map((c) => c.namespace),
    published: {
      records: parts.published.length + parts.callRecords.length,
      registries: [...new Set([...parts.published, ...parts.callRecords].flatMap((p) => p.to))],
    },
    forgedRefused: refusal('acme.com/image/blur', 'E_SIGNER_NOT_OWNER'),
    rollbackRefused: refusal('acme.com/image/sharpen', 'E_SEQ_ROLLBACK'),
    resolved: { ok: parts.steps.filter((s) => s.ok).length, of: parts.steps.length },
    strategies,
    calls: {
      // The main mesh's calls, and node 3's call over libp2p.
      completed: calls.filter((a) => a.ok).length + (parts.peers.call.provider ? 1 : 0),
      refused: calls.filter((a) => !a.ok).length,
      transports: [...transports],
    },
    failover:
      fo.attempts > 1 && fo.answeredBy !== fo.failed
        ? { from: fo.failed, to: fo.answeredBy, attempts: fo.attempts }
        : null,
    charges: parts.charges.map((c) => ({ currency: c.currency, amount: c.fromUsage })),
    chargesAddUp: parts.charges.every((c) => c.fromCalls === c.fromUsage),
    lineageVerified: parts.lineage.ok,
    peers: {
      nodes: parts.peers.nodes.length,
      propagationMs: Math.round(parts.peers.propagationMs * 10) / 10,
      libp2pCall: parts.peers.call.hostInvocation !== undefined,
      yankReachedEveryPeer:
        parts.peers.yankReached.every(Boolean) && parts.peers.afterYankByNode.every((v) => v === '1.0.0'),
    },
    durationMs: Math.round(durationMs),
  }
}

/** Prints the summary: what the demo showed, in lines a newcomer reads in a minute. */
export function printSummary(out: Output, s: DemoSummary): void {
  const yes = (ok: boolean) => (ok ? 'yes' : 'NO')
  const lines: [string, string][] = [
    ['registries', `${s.registries.join(', ')} (all embedded; mirror is the one the demo tampers with)`],
    ['claimed', `${s.claimed.join(', ')} on the chain, publisher key added there`],
    ['published', `${s.published.records} signed records to ${s.published.registries.join(', ')}`],
    ['forged', s.forgedRefused ? `refused (${s.forgedRefused})` : 'NOT refused'],
    ['rolled back', s.rollbackRefused ? `refused (${s.rollbackRefused})` : 'NOT refused'],
    ['resolved', `${s.resolved.ok} of ${s.resolved.of} (the rest are misses shown with their codes)`],
    [
      'strategies',
      Object.entries(s.strategies)
        .map(([k, v]) => `${k} -> ${v}`)
        .join(', '),
    ],
    [
      'calls',
      `${s.calls.completed} completed over ${s.calls.transports.join(', ')}; ${s.calls.refused} refused before running`,
    ],
    [
      'failover',
      s.failover
        ? `${s.failover.from} fell over, ${s.failover.to} answered (${s.failover.attempts} attempts)`
        : 'NONE',
    ],
    [
      'billing',
      `${s.charges
        .filter((c) => c.currency !== null)
        .map((c) => `${c.amount} ${c.currency} base units`)
        .join(
          ', ',
        )} charged in all; the ledger's usage and the calls' own charges add up: ${yes(s.chargesAddUp)}`,
    ],
    ['lineage', `verified: ${yes(s.lineageVerified)}`],
    [
      'peers',
      `${s.peers.nodes} nodes, gossip to the far node in ${s.peers.propagationMs} ms, call over libp2p: ${yes(s.peers.libp2pCall)}, yank reached every peer: ${yes(s.peers.yankReachedEveryPeer)}`,
    ],
  ]
  out.line('summary')
  for (const [k, v] of lines) out.line(`  ${k.padEnd(12)} ${v}`)
  out.line(`  ${'took'.padEnd(12)} ${(s.durationMs / 1000).toFixed(1)} s`)
}
