import { defineCommand } from 'citty'
import { commonArgs, context } from '../src/cli/_context.js'
import { type NodeClient, probeNode } from '../src/cli/_nodeApi.js'
import { NodeNotRunningError } from '../src/errors/cli.js'
import { findConfig, loadConfig } from '../src/preset/config.js'
import type { NodeStatus } from './_nodeStatus.js'

/** The node running on the config's data dir, or the error saying there is none. */
async function runningNode(configPath: string | undefined): Promise<NodeClient> {
  const { dataDir } = await loadConfig(await findConfig(configPath))
  const probed = await probeNode(dataDir)
  if (probed.node === undefined) throw new NodeNotRunningError(dataDir, probed.reason)
  return probed.node
}

/** `3h 4m 5s` for people. */
function duration(ms: number): string {
  const s = Math.floor(ms / 1000)
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ] as const
  const shown = parts.filter(([n], i) => n > 0 || i === parts.length - 1)
  return shown.map(([n, unit]) => `${n}${unit}`).join(' ')
}

function peerLines(peers: NodeStatus['peers']): string[] {
  return peers.map(
    (p) =>
      `${p.peerId}  ${p.latencyMs === null ? '-' : `${Math.round(p.latencyMs)} ms`}  score ${p.score}  ${p.addrs.join(', ')}`,
  )
}

/** `fmesh node status`: what the node running on this data dir is doing. */
export const nodeStatusCommand = defineCommand({
  meta: {
    name: 'status',
    description:
      'Show the node running on the data dir: peer id, addresses, uptime, registries, records, peers',
  },
  args: { ...commonArgs },
  async run({ args }) {
    const { out, configPath } = context(args)
    const node = await runningNode(configPath)
    const s = await node.request<NodeStatus>('GET', '/v1/node')
    out.result({ ...s, api: node.url }, () => {
      out.line(`peer node ${s.peerId} (pid ${s.pid}), up ${duration(s.uptimeMs)}`)
      out.line(`  api        ${node.url}`)
      for (const addr of s.addrs) out.line(`  listening  ${addr}`)
      out.line(`  records    ${s.records} held by the peer node`)
      for (const r of s.registries) {
        out.line(
          `  registry   ${r.id.padEnd(10)} ${r.status === 'ok' ? `ok, ${r.records} record${r.records === 1 ? '' : 's'}` : `error ${r.error}`}`,
        )
        // What a reader elsewhere puts in its config to follow this registry.
        if (r.ipnsName !== undefined) out.line(`    ipns     ${r.ipnsName}`)
        if (r.addrs !== undefined)
          for (const addr of r.addrs.length > 0 ? r.addrs : ['none (offline: no network in its config)'])
            out.line(`    dial     ${addr}`)
      }
      out.line(`  peers      ${s.peers.length} connected${s.peers.length > 0 ? ' (fmesh node peers)' : ''}`)
    })
  },
})

/** `fmesh node peers`: the peers the running node is connected to. */
export const nodePeersCommand = defineCommand({
  meta: {
    name: 'peers',
    description: 'List the peers the node on the data dir is connected to: addresses, latency, score',
  },
  args: { ...commonArgs },
  async run({ args }) {
    const { out, configPath } = context(args)
    const node = await runningNode(configPath)
    const s = await node.request<NodeStatus>('GET', '/v1/node')
    out.result({ peerId: s.peerId, peers: s.peers }, () => {
      for (const line of peerLines(s.peers)) out.line(line)
      out.line(`${s.peers.length} peer${s.peers.length === 1 ? '' : 's'} connected to ${s.peerId}`)
    })
  },
})
