import type { Libp2pOptions } from 'libp2p'

/** The networked mode's options, as checked. */
export interface NetworkConfig {
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  /** Extra libp2p options, laid over the defaults below (a `privateKey`, a `connectionGater`, ...). */
  readonly libp2p: Partial<Libp2pOptions> | undefined
  /** The private kad-dht's protocol name. */
  readonly dhtProtocol: string
}

/** @default '/fmesh/ipfs/kad/1.0.0' */
export const DEFAULT_IPFS_DHT_PROTOCOL = '/fmesh/ipfs/kad/1.0.0'
/** @default ['/ip4/127.0.0.1/tcp/0'] */
export const DEFAULT_IPFS_LISTEN: readonly string[] = ['/ip4/127.0.0.1/tcp/0']

/**
 * The registry node's libp2p options: TCP, noise, yamux, identify, ping, a private kad-dht (its own
 * protocol, server mode, keeping loopback and private addresses so a closed network routes IPNS),
 * and gossipsub at `services.pubsub` so the peer node can run on the same libp2p node. No peer
 * discovery: the node dials only the addresses it is given.
 */
export async function libp2pOptions(
  network: NetworkConfig,
  keychain: () => Parameters<typeof import('@helia/ipns').ipnsValidator>[2],
): Promise<Libp2pOptions> {
  const [
    { tcp },
    { noise },
    { yamux },
    { identify },
    { ping },
    { gossipsub },
    { kadDHT, passthroughMapper },
  ] = await Promise.all([
    import('@libp2p/tcp'),
    import('@libp2p/noise'),
    import('@libp2p/yamux'),
    import('@libp2p/identify'),
    import('@libp2p/ping'),
    import('@libp2p/gossipsub'),
    import('@libp2p/kad-dht'),
  ])
  const { ipnsValidator, ipnsSelector, IPNSEntry } = await import('@helia/ipns')
  const extra = network.libp2p ?? {}
  return {
    addresses: { listen: [...network.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    ...extra,
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: network.dhtProtocol,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        // Peers are dialled, not discovered: a query runs on the routing table as it is, at once,
        // instead of waiting for the first self-query (a second after start).
        allowQueryWithZeroPeers: true,
        // The DHT stores and serves IPNS records only once they pass IPNS's own checks (signature,
        // validity), and of two records it keeps the one IPNS prefers (the higher sequence).
        validators: {
          ipns: async (key, value, options) => {
            await ipnsValidator(key, value, keychain(), options)
          },
        },
        selectors: {
          ipns: (key, values) =>
            ipnsSelector(
              key,
              values.map((v) => IPNSEntry.decode(v)),
            ),
        },
      }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, ignoreDuplicatePublishError: true }),
      ...(extra.services ?? {}),
    },
  } as unknown as Libp2pOptions
}
