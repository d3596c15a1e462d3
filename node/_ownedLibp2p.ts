import { createHash } from 'node:crypto'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { PeerGuard } from './_peerGuard.js'
import { type PeerLimits, RECORDS_TOPIC } from './limits.js'

export interface OwnedLibp2pInit {
  privateKey: PrivateKey
  listen: readonly string[]
  dht: boolean
  mdns: boolean
  limits: PeerLimits
  guard: PeerGuard
  /** Networks exempt from the inbound limits (libp2p's connection manager allow list). */
  allow?: readonly string[]
}

export type PeerLibp2p = Libp2p<{ pubsub: GossipSub } & Record<string, unknown>>

/**
 * The node's own libp2p: TCP, noise, yamux, identify, ping, gossipsub with peer scoring on the
 * records topic (an invalid record costs its sender far below the graylist threshold), optionally a
 * private kad-dht and mDNS. Banned peers are refused by the connection gater. Not started.
 */
export async function createOwnedLibp2p(init: OwnedLibp2pInit): Promise<PeerLibp2p> {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }, { ping }, { gossipsub }, score] =
    await Promise.all([
      import('libp2p'),
      import('@libp2p/tcp'),
      import('@libp2p/noise'),
      import('@libp2p/yamux'),
      import('@libp2p/identify'),
      import('@libp2p/ping'),
      import('@libp2p/gossipsub'),
      import('@libp2p/gossipsub/score'),
    ])
  const { guard, limits } = init
  const banned = (peer: PeerId) => guard.isBanned(peer.toString())
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      emitSelf: false,
      // The same record announced by two nodes is one message: ids are the hash of the bytes.
      msgIdFn: (message) => contentId(message.data),
      // The same id, taken before the envelope's signature is checked: every copy after the first
      // (in a full mesh, most of what arrives) is dropped for one hash instead of an ed25519 check.
      // Only a copy whose envelope verified enters this cache, so a forged copy cannot shadow it.
      fastMsgIdFn: (message) => Buffer.from(contentId(message.data ?? EMPTY)).toString('base64'),
      // Gossipsub drops what is far too large itself; moderately oversize records reach the
      // validator, which rejects them so the sender is scored down.
      maxInboundDataLength: limits.maxRecordBytes * 4,
      scoreParams: {
        appSpecificScore: (peer: string) => guard.score(peer),
        appSpecificWeight: 1,
        topics: {
          [RECORDS_TOPIC]: score.createTopicScoreParams({
            topicWeight: 1,
            timeInMeshWeight: 0.01,
            timeInMeshQuantum: 1000,
            timeInMeshCap: 3600,
            firstMessageDeliveriesWeight: 1,
            firstMessageDeliveriesDecay: 0.9,
            firstMessageDeliveriesCap: 50,
            // Announcements are rare: a quiet honest peer must not be punished for delivering few.
            meshMessageDeliveriesWeight: 0,
            meshFailurePenaltyWeight: 0,
            invalidMessageDeliveriesWeight: -10,
            invalidMessageDeliveriesDecay: 0.9,
          }),
        },
      },
      scoreThresholds: { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80 },
    }),
  }
  if (init.dht) {
    const { kadDHT, removePublicAddressesMapper } = await import('@libp2p/kad-dht')
    services.dht = kadDHT({
      protocol: '/fmesh/kad/1.0.0',
      clientMode: false,
      peerInfoMapper: removePublicAddressesMapper,
    })
  }
  const peerDiscovery = []
  if (init.mdns) {
    const { mdns } = await import('@libp2p/mdns')
    peerDiscovery.push(mdns())
  }
  return (await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [...init.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: limits.maxConnections,
      inboundConnectionThreshold: limits.inboundConnectionsPerIpPerSecond,
      maxIncomingPendingConnections: limits.maxPendingInbound,
      ...(init.allow === undefined ? {} : { allow: [...init.allow] }),
    },
    connectionGater: {
      denyDialPeer: banned,
      denyInboundEncryptedConnection: banned,
      denyOutboundEncryptedConnection: banned,
    },
    peerDiscovery,
    services: services as never,
  })) as unknown as PeerLibp2p
}

const EMPTY = new Uint8Array(0)
const ids = new WeakMap<Uint8Array, Uint8Array>()
/** The sha-256 of a message's data, remembered per buffer (gossipsub asks twice for the first copy). */
function contentId(data: Uint8Array): Uint8Array {
  let id = ids.get(data)
  if (id === undefined) {
    id = new Uint8Array(createHash('sha256').update(data).digest())
    ids.set(data, id)
  }
  return id
}
