import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { ServiceComponents, Startable } from '../src/components.js'
import { ConfigError } from '../src/errors/registry.js'
import { checkKnownKeys } from '../src/options.js'
import type { SyncReport } from './_syncProtocol.js'
import type { PeerInvokeOptions } from './invokeOnNode.js'
import { DEFAULT_PEER_LIMITS, type PeerLimits } from './limits.js'
import type { PeerRegistry } from './peerRegistry.js'
import type { RecordStore } from './recordStore.js'

/** What a further protocol on the node gets (the invoke protocol plugs in here). */
export interface PeerProtocolContext {
  readonly libp2p: Libp2p
  readonly components: ServiceComponents
  readonly limits: PeerLimits
}

/** A protocol started after the node's own and stopped before them (see {@link PeerNodeInit.protocols}). */
export type PeerProtocolFactory = (context: PeerProtocolContext) => Startable | Promise<Startable>

export interface PeerNodeInit {
  /**
   * A started libp2p node to use instead of creating one (shared with the IPFS registry). It must
   * have a gossipsub service at `services.pubsub`; the peer node never stops it.
   */
  libp2p?: Libp2p
  /** Multiaddrs to listen on (own node only). @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: readonly string[]
  /** Multiaddrs with `/p2p/<peerId>` dialed on start and redialed on every sync tick while disconnected. @default [] */
  bootstrap?: readonly string[]
  /** A private kad-dht (`/fmesh/kad/1.0.0`, LAN addresses) for peer routing (own node only). @default false */
  dht?: boolean
  /** mDNS discovery on the local network (own node only). @default false */
  mdns?: boolean
  /**
   * Networks trusted not to flood (own node only), as multiaddrs, e.g. `['/ip4/10.0.0.0/ipcidr/8']`:
   * their inbound connections skip the per-address and pending limits
   * (`limits.inboundConnectionsPerIpPerSecond`, `limits.maxPendingInbound`) and `maxConnections`, and
   * libp2p never prunes them. Banned peers are still refused. @default []
   */
  allow?: readonly string[]
  /** Where the identity key lives (`<dataDir>/peer/key`). @default the mesh's dataDir */
  dataDir?: string
  /** The peer registry's id. @default 'peer' */
  registryId?: string
  /** Anti-entropy with every connected peer this often (also on every connect); 0 for on connect only. @default DEFAULT_SYNC_INTERVAL_MS */
  syncIntervalMs?: number
  /** Run anti-entropy with every peer that connects (once identify says it speaks the sync protocol). @default true */
  syncOnConnect?: boolean
  /** Abuse limits; see {@link PeerLimits}. */
  limits?: Partial<PeerLimits>
  /**
   * Further protocols on this node, started after gossip, lookup and sync and stopped before them.
   * (The invoke protocol is one, added by default; see `invoke`.)
   */
  protocols?: readonly PeerProtocolFactory[]
  /**
   * The invoke protocol (`/fmesh/invoke/1.0.0`): this node hosts its marketplace functions for peers
   * and calls `libp2p:` providers; `false` leaves it out. @default {} (hosting and calling)
   */
  invoke?: false | PeerInvokeOptions
}

/** A connected peer. */
export interface PeerInfo {
  readonly peerId: string
  readonly addrs: readonly string[]
}

/** The service `peerNode(init)` makes: its identity, peers and registry. */
export interface PeerNode extends Startable {
  /** This node's peer id (`12D3Koo...`). */
  readonly peerId: string
  /** Where this node listens, each with `/p2p/<peerId>` (what other nodes bootstrap from). */
  readonly addrs: readonly string[]
  readonly libp2p: Libp2p
  /** The peer registry the node added to the mesh. */
  readonly registry: PeerRegistry
  /** The verified records this node holds (what it gossips, answers lookups and syncs from). */
  readonly store: RecordStore
  readonly limits: PeerLimits
  peers(): PeerInfo[]
  /** Dials a multiaddr (with `/p2p/<peerId>`); resolves to the peer id once connected. */
  dial(addr: string, options?: { signal?: AbortSignal }): Promise<string>
  /** Runs anti-entropy now with one peer, or with every connected one. */
  sync(peerId?: string, options?: { signal?: AbortSignal }): Promise<SyncReport[]>
  /** Gossipsub's score of a peer (negative after it sent invalid records). */
  score(peerId: string): number
}

export const INIT_KEYS = [
  'libp2p',
  'listen',
  'bootstrap',
  'allow',
  'dht',
  'mdns',
  'dataDir',
  'registryId',
  'syncIntervalMs',
  'syncOnConnect',
  'limits',
  'protocols',
  'invoke',
] as const

/** Checks `peerNode(init)` options; every problem is a `ConfigError` naming the option. */
export function checkInit(init: PeerNodeInit): void {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('peerNode', 'options must be an object')
  checkKnownKeys(init, INIT_KEYS, 'peerNode')
  for (const key of ['listen', 'bootstrap', 'allow'] as const) {
    const list = init[key]
    if (list === undefined) continue
    if (!Array.isArray(list))
      throw new ConfigError(`peerNode.${key}`, 'must be an array of multiaddr strings')
    list.forEach((addr, i) => {
      try {
        multiaddr(addr)
      } catch {
        throw new ConfigError(`peerNode.${key}[${i}]`, `${JSON.stringify(addr)} is not a multiaddr`)
      }
      if (key === 'allow' && !/^\/ip[46]\//.test(String(addr)))
        throw new ConfigError(
          `peerNode.${key}[${i}]`,
          'an allowed network is an IP address or range, e.g. /ip4/10.0.0.0/ipcidr/8',
        )
      if (key === 'bootstrap' && !String(addr).includes('/p2p/'))
        throw new ConfigError(`peerNode.${key}[${i}]`, 'a bootstrap address must end with /p2p/<peerId>')
    })
  }
  if (
    init.libp2p !== undefined &&
    (init.listen !== undefined ||
      init.dht !== undefined ||
      init.mdns !== undefined ||
      init.allow !== undefined)
  )
    throw new ConfigError(
      'peerNode',
      'listen, allow, dht and mdns configure a node peerNode creates; set them on the libp2p node given',
    )
  for (const key of ['dht', 'mdns', 'syncOnConnect'] as const) {
    if (init[key] !== undefined && typeof init[key] !== 'boolean')
      throw new ConfigError(`peerNode.${key}`, 'must be true or false')
  }
  if (
    init.syncIntervalMs !== undefined &&
    !(Number.isInteger(init.syncIntervalMs) && init.syncIntervalMs >= 0)
  )
    throw new ConfigError('peerNode.syncIntervalMs', 'must be an integer >= 0')
  if (init.limits !== undefined) {
    if (init.limits === null || typeof init.limits !== 'object')
      throw new ConfigError('peerNode.limits', 'must be an object')
    checkKnownKeys(init.limits, ['maxRecordBytes', ...Object.keys(DEFAULT_PEER_LIMITS)], 'peerNode.limits')
    for (const [key, value] of Object.entries(init.limits)) {
      if (!(typeof value === 'number' && Number.isInteger(value) && value > 0))
        throw new ConfigError(`peerNode.limits.${key}`, 'must be a positive integer')
    }
  }
  if (
    init.protocols !== undefined &&
    !(Array.isArray(init.protocols) && init.protocols.every((p) => typeof p === 'function'))
  )
    throw new ConfigError('peerNode.protocols', 'must be an array of protocol factories')
  if (init.invoke !== undefined && init.invoke !== false) {
    if (init.invoke === null || typeof init.invoke !== 'object')
      throw new ConfigError('peerNode.invoke', 'must be false or { serve?, call? }')
    checkKnownKeys(init.invoke, ['serve', 'call'], 'peerNode.invoke')
  }
}
