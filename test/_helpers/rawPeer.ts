import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { LOOKUP_PROTOCOL } from '../../node/limits.js'

export type RawPeer = Libp2p<{ pubsub: ReturnType<ReturnType<typeof gossipsub>> }>

/**
 * A plain libp2p node a test scripts (a hostile peer, a client speaking the wire protocols by hand):
 * TCP on 127.0.0.1, noise, yamux, identify, gossipsub without scoring.
 */
export async function rawPeer(): Promise<RawPeer> {
  return (await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
    },
  })) as unknown as RawPeer
}

/** Sends one raw frame on a new lookup stream and returns the answer's frames as text (header first). */
export async function rawLookup(
  peer: RawPeer,
  target: string,
  frame: Uint8Array,
  options: { frames?: number } = {},
): Promise<{ header: Record<string, unknown>; records: Uint8Array[] }> {
  const stream = await peer.dialProtocol(multiaddr(target), LOOKUP_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
  const signal = AbortSignal.timeout(5000)
  await lp.write(frame, { signal })
  const header = JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray())) as Record<
    string,
    unknown
  >
  const records: Uint8Array[] = []
  const count = typeof header.records === 'number' ? header.records : 0
  for (let i = 0; i < Math.min(count, options.frames ?? count); i++)
    records.push((await lp.read({ signal })).subarray())
  await stream.close().catch(() => stream.abort(new Error('closing')))
  return { header, records }
}

export const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
