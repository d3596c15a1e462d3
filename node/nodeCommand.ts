import { defineCommand } from 'citty'
import { commonArgs, context } from '../src/cli/_context.js'
import { probeNode, removeNodeApi, writeNodeApi } from '../src/cli/_nodeApi.js'
import { ProgressLine } from '../src/cli/_progress.js'
import { NodeAlreadyRunningError } from '../src/errors/cli.js'
import { findConfig, loadConfig } from '../src/preset/config.js'
import { createPresetMesh } from '../src/preset/createPresetMesh.js'
import { DEFAULT_LISTEN, DEFAULT_SYNC_INTERVAL_MS } from './limits.js'
import { nodePeersCommand, nodeStatusCommand } from './nodeStatusCommand.js'
import type { PeerNode } from './peerNodeOptions.js'

/** A comma- or space-separated list flag as an array (empty entries dropped). */
function list(value: unknown): string[] {
  return typeof value === 'string'
    ? value
        .split(/[\s,]+/)
        .map((v) => v.trim())
        .filter((v) => v !== '')
    : []
}

/**
 * `fmesh node start`: the configured registries plus a libp2p peer node (the config's `node` section,
 * overridden by the flags), until SIGINT or SIGTERM.
 */
export const nodeStartCommand = defineCommand({
  meta: {
    name: 'start',
    description: 'Run a mesh with a libp2p peer node (gossip, lookup, anti-entropy) until SIGINT/SIGTERM',
  },
  args: {
    ...commonArgs,
    listen: {
      type: 'string',
      description: `Multiaddrs to listen on, comma-separated (default ${DEFAULT_LISTEN.join(',')})`,
    },
    bootstrap: { type: 'string', description: 'Multiaddrs with /p2p/<peerId> to dial, comma-separated' },
    'sync-interval': {
      type: 'string',
      description: `Anti-entropy interval in ms, 0 for on connect only (default ${DEFAULT_SYNC_INTERVAL_MS})`,
    },
    dht: { type: 'boolean', description: 'Run a private kad-dht (/fmesh/kad/1.0.0) (default false)' },
    mdns: { type: 'boolean', description: 'Find peers on the local network with mDNS (default false)' },
  },
  async run({ args }) {
    const { out, json, configPath } = context(args)
    // Handled from the start: a signal while starting stops the node once it has started.
    const stopped = new Promise<string>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal))
    })
    const config = await loadConfig(await findConfig(configPath))
    // One node per data dir: a second would wait on the first one's ledger. A stale api.json (its
    // process gone) is replaced.
    const running = await probeNode(config.dataDir)
    if (running.node !== undefined)
      throw new NodeAlreadyRunningError(config.dataDir, running.file.pid, running.file.peerId)
    // libp2p and the gateway load when the node starts, never for `fmesh --help`.
    const [{ peerNode }, { httpGateway, generateToken }, { nodeStatus }] = await Promise.all([
      import('./peerNode.js'),
      import('../gateway/index.js'),
      import('./_nodeStatus.js'),
    ])
    let node: PeerNode | undefined
    // The config's `node` section, each field overridden by its flag when the flag is given.
    const fromConfig = config.node ?? {}
    const listen = args.listen === undefined ? fromConfig.listen : list(args.listen)
    const bootstrap = args.bootstrap === undefined ? fromConfig.bootstrap : list(args.bootstrap)
    const interval =
      args['sync-interval'] === undefined ? fromConfig.syncIntervalMs : Number(args['sync-interval'])
    const dht = typeof args.dht === 'boolean' ? args.dht : fromConfig.dht
    const mdns = typeof args.mdns === 'boolean' ? args.mdns : fromConfig.mdns
    const factory = peerNode({
      ...(listen === undefined || listen.length === 0 ? {} : { listen }),
      ...(bootstrap === undefined ? {} : { bootstrap }),
      ...(interval === undefined ? {} : { syncIntervalMs: interval }),
      ...(dht === undefined ? {} : { dht }),
      ...(mdns === undefined ? {} : { mdns }),
    })
    // Starting (libp2p, the registries' first sync, bootstrap dials) can take seconds: a progress
    // line on a terminal, with the registries' sync bars in it.
    const starting = new ProgressLine('starting the peer node', { json })
    // The control API the CLI goes through while the node holds the data dir: the HTTP gateway on
    // loopback, a free port, one admin token as the default principal, so calls, idempotency keys
    // and usage are the same as without a node.
    const admin = generateToken()
    const startedAt = Date.now()
    const gateway = httpGateway({
      port: 0,
      tokens: [{ tokenHash: admin.tokenHash, principal: 'local', scopes: ['call', 'dispatch', 'admin'] }],
      rateLimit: false,
      node: () => nodeStatus(node!, mesh, { at: startedAt, now: Date.now }, reach),
    })
    const { mesh, describe, reach } = await createPresetMesh(config, {
      onSyncProgress: starting.onSync,
      services: [
        async (components) => {
          // Listening from here, so the connections made while starting (bootstrap) are printed too.
          components.events.on('service', (e) => {
            if (e.type === 'peer:connect' || e.type === 'peer:disconnect')
              out.line(`${e.type} ${String(e.peerId)}`)
          })
          node = await factory(components)
          return node
        },
        gateway,
      ],
    }).finally(() => starting.stop())
    const started = node!
    try {
      await writeNodeApi(config.dataDir, {
        url: gateway.url,
        pid: process.pid,
        peerId: started.peerId,
        token: admin.token,
        startedAt: new Date(startedAt).toISOString(),
      })
    } catch (err) {
      await mesh.close()
      throw err
    }
    out.result(
      { peerId: started.peerId, addrs: started.addrs, api: gateway.url, registries: describe },
      () => {
        out.line(`peer node ${started.peerId}`)
        for (const addr of started.addrs) out.line(`  listening ${addr}`)
        out.line(`  api       ${gateway.url} (commands on this data dir go through it)`)
        for (const line of describe) out.line(`  ${line}`)
        out.line('Stop with Ctrl-C.')
      },
    )
    const signal = await stopped
    out.line(`${signal}: stopping`)
    // The file goes first: a command started now runs on the data dir itself once the node is gone.
    await removeNodeApi(config.dataDir)
    await mesh.close()
  },
})

/** `fmesh node`: the peer node's commands. */
export const nodeCommand = defineCommand({
  meta: { name: 'node', description: 'Run a libp2p peer node that shares records with other mesh nodes' },
  subCommands: { start: nodeStartCommand, status: nodeStatusCommand, peers: nodePeersCommand },
})
