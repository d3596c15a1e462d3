import type { Connection, IdentifyResult, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { ServiceComponents, ServiceFactory, Startable } from '../src/components.js'
import { MAX_RECORD_BYTES } from '../src/record/codec.js'
import { type GossipEvent, RecordGossip } from './_gossip.js'
import { LookupService } from './_lookupProtocol.js'
import { createOwnedLibp2p, type PeerLibp2p } from './_ownedLibp2p.js'
import { PeerGuard } from './_peerGuard.js'
import { loadPeerKey, peerKeyPath } from './_peerKey.js'
import { type SyncReport, SyncService } from './_syncProtocol.js'
import { PeerDialError, PeerLibp2pUnsuitableError, PeerListenError, PeerNodeClosedError } from './errors.js'
import { invokeOnNode } from './invokeOnNode.js'
import {
  DEFAULT_LISTEN,
  DEFAULT_PEER_LIMITS,
  DEFAULT_SYNC_INTERVAL_MS,
  LOOKUP_PROTOCOL,
  type PeerLimits,
  RECORDS_TOPIC,
  SYNC_PROTOCOL,
} from './limits.js'
import {
  checkInit,
  type PeerInfo,
  type PeerNode,
  type PeerNodeInit,
  type PeerProtocolContext,
} from './peerNodeOptions.js'
import { PeerRegistry } from './peerRegistry.js'
import { RecordStore } from './recordStore.js'

/**
 * The libp2p peer node, a mesh service: records published on any node reach every node by gossip
 * (verified before they are forwarded), a node asks its peers for names it lacks (`/fmesh/lookup/1.0.0`),
 * and nodes that were apart converge by anti-entropy (`/fmesh/sync/1.0.0`). It adds the peer registry
 * to the mesh, so `mesh.publish` announces and `mesh.resolve` finds what peers hold.
 *
 * @example
 * ```ts
 * import { peerNode } from 'function-mesh/node'
 * const mesh = await createMesh({
 *   registries: [memoryRegistry()],
 *   services: [peerNode({ listen: ['/ip4/127.0.0.1/tcp/4001'], bootstrap: [] })],
 *   trust: { owners: { 'acme.com': [signer.id] } },
 * })
 * ```
 */
export function peerNode(init: PeerNodeInit = {}): ServiceFactory<PeerNode> {
  checkInit(init)
  return async (components) => {
    const limits: PeerLimits = { maxRecordBytes: MAX_RECORD_BYTES, ...DEFAULT_PEER_LIMITS, ...init.limits }
    // One address may open as many connections a second as the node keeps at all, unless told otherwise.
    if (init.limits?.inboundConnectionsPerIpPerSecond === undefined)
      limits.inboundConnectionsPerIpPerSecond = limits.maxConnections
    const node = new PeerNodeRuntime(init, components, limits)
    await node.create()
    return node
  }
}

type State = 'new' | 'running' | 'stopped'

class PeerNodeRuntime implements PeerNode {
  readonly limits: PeerLimits
  private readonly log
  private readonly guard: PeerGuard
  readonly store: RecordStore
  private node!: PeerLibp2p
  private owned = false
  private gossip!: RecordGossip
  private lookupService!: LookupService
  private syncService!: SyncService
  private peerRegistry!: PeerRegistry
  private readonly speaksLookup = new Set<string>()
  /** Peers whose identify finished: those not in it yet are still asked (libp2p refuses fast if they cannot answer). */
  private readonly identified = new Set<string>()
  private readonly active = new Set<Stream>()
  private readonly lifetime = new AbortController()
  private readonly protocols: Startable[] = []
  private readonly listeners: [string, (event: CustomEvent<never>) => void][] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private state: State = 'new'

  constructor(
    private readonly init: PeerNodeInit,
    private readonly components: ServiceComponents,
    limits: PeerLimits,
  ) {
    this.limits = limits
    this.log = components.logger('peer')
    this.store = new RecordStore(limits.maxRecords)
    this.guard = new PeerGuard({
      clock: components.clock,
      log: this.log,
      maxOffenses: limits.maxOffenses,
      banMs: limits.banMs,
      onOffense: (e) => this.emit('peer:offense', e),
    })
  }

  get libp2p(): Libp2p {
    return this.node
  }

  get registry(): PeerRegistry {
    return this.peerRegistry
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  get addrs(): readonly string[] {
    return this.node.getMultiaddrs().map((a) => a.toString())
  }

  /** Makes (or checks) the libp2p node and the node's parts; `start` puts them to work. */
  async create(): Promise<void> {
    const given = this.init.libp2p
    if (given !== undefined) {
      const services = (given as { services?: Record<string, unknown> }).services ?? {}
      const pubsub = services.pubsub as { topicValidators?: unknown; subscribe?: unknown } | undefined
      if (
        pubsub === undefined ||
        !(pubsub.topicValidators instanceof Map) ||
        typeof pubsub.subscribe !== 'function'
      )
        throw new PeerLibp2pUnsuitableError(
          'it has no gossipsub service at services.pubsub',
          Object.keys(services),
        )
      if (given.status !== 'started')
        throw new PeerLibp2pUnsuitableError(`it is ${given.status}, not started`, Object.keys(services))
      this.node = given as PeerLibp2p
    } else {
      const privateKey = await loadPeerKey(peerKeyPath(this.init.dataDir ?? this.components.dataDir))
      this.node = await createOwnedLibp2p({
        privateKey,
        listen: this.init.listen ?? DEFAULT_LISTEN,
        dht: this.init.dht === true,
        mdns: this.init.mdns === true,
        ...(this.init.allow === undefined ? {} : { allow: this.init.allow }),
        limits: this.limits,
        guard: this.guard,
      })
      this.owned = true
    }
    this.guard.attach(this.node)
    const { verifier, seqLedger, clock } = this.components
    this.lookupService = new LookupService({
      libp2p: this.node,
      store: this.store,
      guard: this.guard,
      limits: this.limits,
      clock,
      log: this.log,
      verifier,
      seqLedger,
      registries: () => this.components.registries.filter((r) => r !== this.peerRegistry),
      onServed: (e) => this.emit('peer:lookup', e),
    })
    this.peerRegistry = new PeerRegistry({
      id: this.init.registryId ?? 'peer',
      store: this.store,
      verifier,
      seqLedger,
      clock,
      limits: this.limits,
      guard: this.guard,
      log: this.log,
      peers: () => this.lookupPeers(),
      lookup: this.lookupService,
      announce: (bytes) => this.gossip.announce(bytes),
    })
    this.gossip = new RecordGossip({
      pubsub: this.node.services.pubsub,
      topic: RECORDS_TOPIC,
      intake: this.peerRegistry.intake,
      guard: this.guard,
      log: this.log,
      onGossip: (e) => this.onGossip(e),
    })
    this.syncService = new SyncService({
      libp2p: this.node,
      store: this.store,
      intake: this.peerRegistry.intake,
      guard: this.guard,
      limits: this.limits,
      clock,
      seqLedger,
      log: this.log,
    })
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'running'
    if (this.owned) {
      try {
        await this.node.start()
      } catch (err) {
        throw new PeerListenError(this.init.listen ?? DEFAULT_LISTEN, (err as Error).message, err)
      }
    }
    const options = {
      maxInboundStreams: this.limits.maxInboundStreams,
      maxOutboundStreams: this.limits.maxInboundStreams * 2,
    }
    await this.node.handle(LOOKUP_PROTOCOL, this.tracked(this.lookupService.handle), options)
    await this.node.handle(SYNC_PROTOCOL, this.tracked(this.syncService.handle), options)
    this.listen('peer:connect', (e: CustomEvent<PeerId>) => this.onConnect(e.detail))
    this.listen('peer:disconnect', (e: CustomEvent<PeerId>) => this.onDisconnect(e.detail))
    this.listen('peer:identify', (e: CustomEvent<IdentifyResult>) => this.onIdentify(e.detail))
    this.gossip.start()
    await this.components.addRegistry(this.peerRegistry)
    // Peers already connected to a shared node: learn what they speak and catch up with them.
    for (const peer of this.node.getPeers()) void this.learnProtocols(peer)
    // ── Further protocols: the invoke protocol first, then the caller's ─────────────────────────────
    const context: PeerProtocolContext = {
      libp2p: this.node,
      components: this.components,
      limits: this.limits,
    }
    const invoke = this.init.invoke === false ? [] : [invokeOnNode(this.init.invoke ?? {})]
    for (const factory of [...invoke, ...(this.init.protocols ?? [])]) {
      const protocol = await factory(context)
      this.protocols.push(protocol)
      await protocol.start()
    }
    const interval = this.init.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS
    if (interval > 0) {
      this.timer = setInterval(() => this.tick(), interval)
      this.timer.unref?.()
    }
    await this.dialBootstrap()
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopped'
    if (this.timer !== undefined) clearInterval(this.timer)
    this.lifetime.abort(new PeerNodeClosedError('continue'))
    // Every step runs even if one fails (a start that failed half way leaves some undone).
    const step = async (what: string, work: () => unknown) => {
      try {
        await work()
      } catch (err) {
        this.log.error('stopping: %s failed: %s', what, (err as Error).message)
      }
    }
    for (const protocol of [...this.protocols].reverse()) await step('a protocol', () => protocol.stop())
    for (const [type, listener] of this.listeners)
      this.node.removeEventListener(type as never, listener as never)
    await step('gossip', () => this.gossip.stop())
    await step('the lookup protocol', () => this.node.unhandle(LOOKUP_PROTOCOL))
    await step('the sync protocol', () => this.node.unhandle(SYNC_PROTOCOL))
    for (const stream of this.active) stream.abort(new PeerNodeClosedError('serve'))
    this.active.clear()
    await step('the peer registry', () => this.peerRegistry.stop())
    if (this.owned) await this.node.stop()
  }

  peers(): PeerInfo[] {
    return this.node.getPeers().map((peer) => ({
      peerId: peer.toString(),
      addrs: this.node.getConnections(peer).map((c) => c.remoteAddr.toString()),
    }))
  }

  async dial(addr: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    if (this.state !== 'running') throw new PeerNodeClosedError('dial')
    let target: ReturnType<typeof multiaddr>
    try {
      target = multiaddr(addr)
    } catch (err) {
      throw new PeerDialError(String(addr), 'not a multiaddr', err)
    }
    try {
      const connection = await this.node.dial(
        target,
        options.signal === undefined ? {} : { signal: options.signal },
      )
      return connection.remotePeer.toString()
    } catch (err) {
      throw new PeerDialError(addr, (err as Error).message, err)
    }
  }

  async sync(peerId?: string, options: { signal?: AbortSignal } = {}): Promise<SyncReport[]> {
    if (this.state !== 'running') throw new PeerNodeClosedError('sync')
    const peers = this.node.getPeers().filter((p) => peerId === undefined || p.toString() === peerId)
    const signal =
      options.signal === undefined
        ? this.lifetime.signal
        : AbortSignal.any([options.signal, this.lifetime.signal])
    return Promise.all(peers.map((peer) => this.syncService.sync(peer, signal)))
  }

  score(peerId: string): number {
    return (this.node.services.pubsub as unknown as { getScore(p: string): number }).getScore(peerId)
  }

  private tracked(handler: (stream: Stream, connection: Connection) => Promise<void>) {
    return async (stream: Stream, connection: Connection) => {
      this.active.add(stream)
      try {
        await handler(stream, connection)
      } finally {
        this.active.delete(stream)
      }
    }
  }

  private listen<T>(type: string, listener: (event: CustomEvent<T>) => void): void {
    this.node.addEventListener(type as never, listener as never)
    this.listeners.push([type, listener as never])
  }

  private emit(type: string, detail: Record<string, unknown>): void {
    this.components.events.emit('service', { type, ...detail })
  }

  private onGossip(event: GossipEvent): void {
    if (event.outcome === 'ignored') return
    this.emit('peer:gossip', { ...event })
  }

  private onConnect(peer: PeerId): void {
    const peerId = peer.toString()
    if (this.guard.isBanned(peerId)) {
      this.guard.hangUp(peer)
      return
    }
    this.emit('peer:connect', {
      peerId,
      addrs: this.node.getConnections(peer).map((c) => c.remoteAddr.toString()),
    })
  }

  private onDisconnect(peer: PeerId): void {
    this.speaksLookup.delete(peer.toString())
    this.identified.delete(peer.toString())
    this.emit('peer:disconnect', { peerId: peer.toString() })
  }

  /** Identify says what the peer speaks: a node of ours gets lookups and an anti-entropy round. */
  private onIdentify(result: IdentifyResult): void {
    const peer = result.peerId.toString()
    this.identified.add(peer)
    if (result.protocols.includes(LOOKUP_PROTOCOL)) this.speaksLookup.add(peer)
    if (result.protocols.includes(SYNC_PROTOCOL) && this.init.syncOnConnect !== false)
      this.syncWith(result.peerId)
  }

  private async learnProtocols(peer: PeerId): Promise<void> {
    try {
      const { protocols } = await this.node.peerStore.get(peer)
      if (protocols.length > 0) this.identified.add(peer.toString())
      if (protocols.includes(LOOKUP_PROTOCOL)) this.speaksLookup.add(peer.toString())
      if (protocols.includes(SYNC_PROTOCOL) && this.init.syncOnConnect !== false) this.syncWith(peer)
    } catch {}
  }

  private syncWith(peer: PeerId): void {
    if (this.state !== 'running' || this.guard.isBanned(peer.toString())) return
    this.syncService.sync(peer, this.lifetime.signal).then(
      (report) => {
        if (report.wanted > 0) this.emit('peer:sync', { ...report })
      },
      (err: unknown) => this.log('sync with %s failed: %s', peer, (err as Error).message),
    )
  }

  private tick(): void {
    for (const peer of this.node.getPeers()) this.syncWith(peer)
    void this.dialBootstrap()
  }

  /** Dials the bootstrap peers not connected; a failure is logged (the next tick tries again). */
  private async dialBootstrap(): Promise<void> {
    const connected = new Set(this.node.getPeers().map((p) => p.toString()))
    await Promise.all(
      (this.init.bootstrap ?? []).map(async (addr) => {
        const peer = peerIdOf(addr)
        if (peer !== undefined && (connected.has(peer) || peer === this.peerId)) return
        await this.node
          .dial(multiaddr(addr), {
            signal: AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(this.limits.streamTimeoutMs)]),
          })
          .catch((err: unknown) => this.log('bootstrap %s: %s', addr, (err as Error).message))
      }),
    )
  }

  /** Connected peers known to speak the lookup protocol, then the others not yet identified. */
  private lookupPeers(): PeerId[] {
    if (this.state !== 'running') return []
    const peers = this.node.getPeers().filter((p) => !this.guard.isBanned(p.toString()))
    return [
      ...peers.filter((p) => this.speaksLookup.has(p.toString())),
      ...peers.filter((p) => !this.identified.has(p.toString())),
    ]
  }
}

/** The `/p2p/<peerId>` of a multiaddr, if it has one. */
function peerIdOf(addr: string): string | undefined {
  return multiaddr(addr)
    .getComponents()
    .findLast((c) => c.name === 'p2p')?.value
}
