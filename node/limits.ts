/** Gossip topic of record announcements (the version changes with the message format). */
export const RECORDS_TOPIC = '/fmesh/records/1'
/** Lookup protocol: a name or a pattern in, signed records out. */
export const LOOKUP_PROTOCOL = '/fmesh/lookup/1.0.0'
/** Anti-entropy protocol: bucket digests, then name -> seq of the differing buckets, then pulls. */
export const SYNC_PROTOCOL = '/fmesh/sync/1.0.0'
/** Message versions the lookup and sync protocols speak. */
export const WIRE_VERSIONS = [1] as const

/** Every limit the peer node enforces on what peers send it. */
export interface PeerLimits {
  /** Largest record accepted from a peer (gossip, lookup, sync), checked before parsing. @default the mesh's record limit (MAX_RECORD_BYTES) */
  maxRecordBytes: number
  /** Largest control message (a request, a summary answer). @default 2097152 (2 MiB) */
  maxMessageBytes: number
  /** Largest request a peer may send (a lookup, a sync round). @default 65536 */
  maxRequestBytes: number
  /** Deadline of every inbound and outbound stream. @default 10000 */
  streamTimeoutMs: number
  /** Deadline of one lookup fanned out to the connected peers. @default 2000 */
  lookupTimeoutMs: number
  /** Peers asked at once by one lookup. @default 8 */
  lookupFanout: number
  /** Records in one pattern answer. @default 256 */
  maxPatternRecords: number
  /** Lookups a peer may make per second (token bucket; the burst is twice that). @default 50 */
  lookupsPerSecond: number
  /** Sync streams a peer may open per second (the burst is 4). @default 1 */
  syncsPerSecond: number
  /** Names pulled per sync batch. @default 500 */
  syncBatch: number
  /** Entries in one summary answer; more buckets follow in the next round. @default 20000 */
  maxSummaryEntries: number
  /** Inbound streams per connection and protocol (libp2p's `maxInboundStreams`). @default 8 */
  maxInboundStreams: number
  /** Inbound requests served at once over all peers; more get `E_PEER_BUSY`. @default 64 */
  maxPendingRequests: number
  /** Outbound lookups in flight at once; more wait for their name's flight or are refused. @default 256 */
  maxPendingLookups: number
  /** Records held in the node's local store. @default 100000 */
  maxRecords: number
  /** Connections libp2p keeps (its connection manager's `maxConnections`). @default 64 */
  maxConnections: number
  /**
   * Inbound connections one remote IP address may open per second (libp2p's
   * `inboundConnectionThreshold`); more are reset before the handshake. Every peer on one machine or
   * behind one NAT shares an address, so this is as many as the node keeps at all: a host re-joining
   * with all its nodes at once is not turned away, while one host opening and closing connections in
   * a loop is still held to a bounded rate of handshakes. (libp2p's own default, 5, resets honest
   * peers as soon as a sixth node on the same host dials within a second.) @default maxConnections (64)
   */
  inboundConnectionsPerIpPerSecond: number
  /**
   * Inbound connections in their handshake at once, over all addresses (libp2p's
   * `maxIncomingPendingConnections`); more are reset. @default 32
   */
  maxPendingInbound: number
  /** Offenses (forged, oversize, rolled-back records, floods) before a peer is disconnected and banned. @default 3 */
  maxOffenses: number
  /** How long a banned peer is refused. @default 600000 (10 minutes) */
  banMs: number
}

/** The limits a peer node runs with when `init.limits` leaves them out. */
export const DEFAULT_PEER_LIMITS: Omit<PeerLimits, 'maxRecordBytes'> = Object.freeze({
  maxMessageBytes: 2 * 1024 * 1024,
  maxRequestBytes: 64 * 1024,
  streamTimeoutMs: 10_000,
  lookupTimeoutMs: 2_000,
  lookupFanout: 8,
  maxPatternRecords: 256,
  lookupsPerSecond: 50,
  syncsPerSecond: 1,
  syncBatch: 500,
  maxSummaryEntries: 20_000,
  maxInboundStreams: 8,
  maxPendingRequests: 64,
  maxPendingLookups: 256,
  maxRecords: 100_000,
  maxConnections: 64,
  inboundConnectionsPerIpPerSecond: 64,
  maxPendingInbound: 32,
  maxOffenses: 3,
  banMs: 600_000,
})

/** Anti-entropy interval with every connected peer. @default 60000 */
export const DEFAULT_SYNC_INTERVAL_MS = 60_000
/** Where the node listens when `init.listen` is not given. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'] as const
