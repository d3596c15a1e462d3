import { MeshError, type MeshErrorJSON } from '../src/errors/base.js'

/** A libp2p node handed to `peerNode({ libp2p })` lacks what the peer node needs (a gossipsub service). */
export class PeerLibp2pUnsuitableError extends MeshError {
  override name = 'PeerLibp2pUnsuitableError'
  constructor(reason: string, services: readonly string[]) {
    super('E_PEER_LIBP2P_UNSUITABLE', `The libp2p node given to peerNode cannot be used: ${reason}`, {
      details: { services },
      hint: 'Create it with a gossipsub service under `services.pubsub` (gossipsub({ ... }) from @libp2p/gossipsub) and start it, or let peerNode create its own node.',
    })
  }
}

/** The peer identity file exists but cannot be read as an ed25519 libp2p private key. */
export class PeerKeyError extends MeshError {
  override name = 'PeerKeyError'
  constructor(path: string, reason: string, cause?: unknown) {
    super('E_PEER_KEY', `Cannot use the peer key in ${path}: ${reason}`, {
      details: { path },
      hint: 'Restore the key file from a backup, or delete it to start with a new peer id (peers that knew the old id will see a new node).',
      cause,
    })
  }
}

/** A peer (or this node) sent a protocol message that is not what the protocol allows. */
export class PeerRequestInvalidError extends MeshError {
  override name = 'PeerRequestInvalidError'
  constructor(protocol: string, rule: string, peer?: string) {
    super('E_PEER_REQUEST_INVALID', `Invalid ${protocol} message: ${rule}`, {
      details: { protocol, rule, peer },
      hint: 'Send a JSON object of the documented shape, e.g. { "v": 1, "name": "acme.com/image/sharpen" } for the lookup protocol.',
    })
  }
}

/** The message's protocol version is not one this node speaks. */
export class PeerVersionUnsupportedError extends MeshError {
  override name = 'PeerVersionUnsupportedError'
  constructor(protocol: string, version: unknown, supported: readonly number[], peer?: string) {
    super(
      'E_PEER_VERSION_UNSUPPORTED',
      `Unsupported ${protocol} message version ${JSON.stringify(version)}`,
      {
        details: { protocol, version, supported, peer },
        hint: `Send "v": ${supported.join(' or ')}; upgrade the node that sent another version.`,
      },
    )
  }
}

/** A message or a stream went over its size limit; it was dropped before it was parsed. */
export class PeerMessageTooLargeError extends MeshError {
  override name = 'PeerMessageTooLargeError'
  constructor(protocol: string, limit: number, peer?: string, cause?: unknown) {
    super('E_PEER_MESSAGE_TOO_LARGE', `A ${protocol} message exceeded ${limit} bytes`, {
      details: { protocol, limit, peer },
      hint: 'Split the request (ask for fewer names, a narrower pattern), or raise the limit on both nodes.',
      cause,
    })
  }
}

/** A peer asked more often than its rate limit allows. */
export class PeerRateLimitedError extends MeshError {
  override name = 'PeerRateLimitedError'
  constructor(protocol: string, peer: string, perSecond: number) {
    super('E_PEER_RATE_LIMITED', `Too many ${protocol} requests from ${peer}`, {
      details: { protocol, peer, perSecond },
      hint: `Slow down to at most ${perSecond} requests per second; repeated floods get the peer disconnected.`,
    })
  }
}

/** The node has as many requests in flight as it allows and refused another. */
export class PeerBusyError extends MeshError {
  override name = 'PeerBusyError'
  constructor(protocol: string, limit: number) {
    super('E_PEER_BUSY', `This node is serving ${limit} ${protocol} requests already`, {
      details: { protocol, limit },
      hint: 'Try again shortly, or ask another peer.',
    })
  }
}

/** A stream did not finish within its deadline. */
export class PeerTimeoutError extends MeshError {
  override name = 'PeerTimeoutError'
  constructor(protocol: string, timeoutMs: number, peer?: string) {
    super('E_PEER_TIMEOUT', `A ${protocol} stream did not finish within ${timeoutMs} ms`, {
      details: { protocol, timeoutMs, peer },
      hint: 'The peer may be overloaded or unreachable; it is skipped for this request.',
    })
  }
}

/** A peer answered with an error (its `MeshError` JSON, carried over the wire). */
export class PeerRemoteError extends MeshError {
  override name = 'PeerRemoteError'
  readonly remote: MeshErrorJSON | undefined
  constructor(protocol: string, peer: string, remote: unknown) {
    const json = isErrorJson(remote) ? remote : undefined
    super(
      json?.code ?? 'E_PEER_PROTOCOL',
      `Peer ${peer} refused the ${protocol} request: ${json?.shortMessage ?? 'no reason given'}`,
      {
        details: { protocol, peer, remoteCode: json?.code },
        hint: json?.hint ?? 'See the remote error code; fix the request or ask another peer.',
      },
    )
    this.remote = json
  }
}

/** A peer answered with something the protocol does not allow (not JSON, a wrong shape). */
export class PeerProtocolError extends MeshError {
  override name = 'PeerProtocolError'
  constructor(protocol: string, peer: string, reason: string, cause?: unknown) {
    super('E_PEER_PROTOCOL', `Peer ${peer} broke the ${protocol} protocol: ${reason}`, {
      details: { protocol, peer },
      hint: 'The peer runs an incompatible or faulty version; it is skipped for this request.',
      cause,
    })
  }
}

/** Dialing a peer failed (a bad multiaddr, nobody listening, a refused handshake). */
export class PeerDialError extends MeshError {
  override name = 'PeerDialError'
  constructor(addr: string, reason: string, cause?: unknown) {
    super('E_PEER_DIAL', `Cannot dial ${addr}: ${reason}`, {
      details: { addr },
      hint: /ECONNRESET/.test(reason)
        ? 'The node there reset the connection before the handshake: it may be at its inbound limits ' +
          '(limits.inboundConnectionsPerIpPerSecond, maxPendingInbound, maxConnections) or have banned this node; ' +
          'raise those limits or allow the network (peerNode allow) on that node, or dial again later.'
        : 'Give a multiaddr with the peer id, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo..., of a running node.',
      cause,
    })
  }
}

/** The node's own libp2p could not start (an address in use, an interface that is not there). */
export class PeerListenError extends MeshError {
  override name = 'PeerListenError'
  constructor(listen: readonly string[], reason: string, cause?: unknown) {
    super('E_PEER_LISTEN', `The peer node cannot listen on ${listen.join(', ')}: ${reason}`, {
      details: { listen },
      hint: 'Pick a free port (or tcp/0 for any), on an address this machine has.',
      cause,
    })
  }
}

/** The peer node was stopped; it refuses new work. */
export class PeerNodeClosedError extends MeshError {
  override name = 'PeerNodeClosedError'
  constructor(operation: string) {
    super('E_PEER_CLOSED', `The peer node is stopped; cannot ${operation}`, {
      details: { operation },
      hint: 'Start a new mesh with the peer node; a stopped node is not restarted.',
    })
  }
}

function isErrorJson(value: unknown): value is MeshErrorJSON {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { shortMessage?: unknown }).shortMessage === 'string'
  )
}
