import type { CallEvent, MeshEvents } from '../src/events.js'
import type { HealthTracker } from '../src/health/HealthTracker.js'

/** One call as the web view and `GET /v1/calls` show it. */
export interface RecentCall {
  readonly at: number
  readonly name: string
  readonly version?: string
  readonly outcome: 'ok' | 'error'
  readonly principal: string
  readonly providerId?: string
  readonly endpoint?: string
  readonly invocationId?: string
  /** `completed` (FUNCTION_COMPLETED and its charge are in the ledger), `failed`, or `replayed`. */
  readonly lineage: 'completed' | 'failed' | 'replayed'
  readonly charge?: { readonly amount: string; readonly currency: string }
  readonly code?: string
  readonly message?: string
  readonly durationMs: number
  readonly attempts?: number
}

/** A connected peer, from the peer node's `peer:connect` service events. */
export interface PeerInfo {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly connectedAt: number
}

/** One message of the live feed (`GET /v1/events`). */
export interface FeedMessage {
  readonly event: 'call' | 'publish' | 'change' | 'peer' | 'gossip' | 'service'
  readonly data: unknown
}

/**
 * What the gateway has seen on `mesh.events` since it started: recent calls, connected peers, gossip
 * counts, the providers it heard of (the health tracker has no listing); and the live feed's
 * subscribers, each handed every message as it happens.
 */
export class LiveState {
  readonly peers = new Map<string, PeerInfo>()
  readonly gossip = { accepted: 0, rejected: 0 }
  /** Provider health keys (`id endpoint`) seen in calls, selections and listings. */
  readonly providerKeys = new Set<string>()
  private readonly calls: RecentCall[] = []
  private readonly subscribers = new Set<(message: FeedMessage) => void>()
  private readonly offs: (() => void)[] = []

  constructor(
    private readonly maxCalls: number,
    private readonly now: () => number,
  ) {}

  /** Starts listening; `stop` undoes it. */
  listen(events: MeshEvents, health: HealthTracker): void {
    this.offs.push(
      events.on('call', (e) => this.onCall(e)),
      events.on('publish', (e) => this.send({ event: 'publish', data: { ...e, at: this.now() } })),
      events.on('change', (e) => this.send({ event: 'change', data: { ...e, at: this.now() } })),
      events.on('service', (e) => this.onService(e)),
      health.onChange((change) => {
        this.providerKeys.add(change.key)
        this.send({ event: 'service', data: { type: 'health:change', ...change } })
      }),
    )
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off()
    this.subscribers.clear()
  }

  /** Newest first. */
  recentCalls(limit: number): RecentCall[] {
    return this.calls.slice(-limit).reverse()
  }

  /** Adds a feed subscriber; returns the function that removes it. */
  subscribe(listener: (message: FeedMessage) => void): () => void {
    this.subscribers.add(listener)
    return () => this.subscribers.delete(listener)
  }

  get subscriberCount(): number {
    return this.subscribers.size
  }

  private onCall(e: CallEvent): void {
    if (e.providerId !== undefined && e.endpoint !== undefined)
      this.providerKeys.add(`${e.providerId} ${e.endpoint}`)
    const call: RecentCall = {
      at: this.now(),
      name: e.name,
      outcome: e.outcome,
      principal: e.principal,
      lineage: e.outcome === 'ok' ? (e.replayed ? 'replayed' : 'completed') : 'failed',
      durationMs: e.durationMs,
      ...(e.version === undefined ? {} : { version: e.version }),
      ...(e.providerId === undefined ? {} : { providerId: e.providerId }),
      ...(e.endpoint === undefined ? {} : { endpoint: e.endpoint }),
      ...(e.invocationId === undefined ? {} : { invocationId: e.invocationId }),
      ...(e.charge === undefined ? {} : { charge: e.charge }),
      ...(e.code === undefined ? {} : { code: e.code }),
      ...(e.message === undefined ? {} : { message: e.message }),
      ...(e.attempts === undefined ? {} : { attempts: e.attempts }),
    }
    this.calls.push(call)
    if (this.calls.length > this.maxCalls) this.calls.splice(0, this.calls.length - this.maxCalls)
    if (this.subscribers.size > 0) this.send({ event: 'call', data: call })
  }

  private onService(e: { readonly type: string; readonly [key: string]: unknown }): void {
    if (e.type === 'peer:connect' && typeof e.peerId === 'string') {
      const addrs = Array.isArray(e.addrs) ? e.addrs.map(String) : []
      this.peers.set(e.peerId, { peerId: e.peerId, addrs, connectedAt: this.now() })
      this.send({ event: 'peer', data: { type: e.type, peerId: e.peerId, addrs } })
    } else if (e.type === 'peer:disconnect' && typeof e.peerId === 'string') {
      this.peers.delete(e.peerId)
      this.send({ event: 'peer', data: { type: e.type, peerId: e.peerId } })
    } else if (e.type === 'peer:gossip') {
      if (e.outcome === 'accepted') this.gossip.accepted++
      else if (e.outcome === 'rejected') this.gossip.rejected++
      this.send({ event: 'gossip', data: { ...e, at: this.now() } })
    } else if (!e.type.startsWith('gateway:')) {
      this.send({ event: 'service', data: { ...e, at: this.now() } })
    }
  }

  private send(message: FeedMessage): void {
    for (const listener of this.subscribers) listener(message)
  }
}
