import { MeshError } from '../src/errors/base.js'
import { ProviderCallError } from '../src/errors/invoke.js'

// Errors of the invoke protocol (`/fmesh/invoke/1.0.0`). The host's are sent to the caller as
// MeshError JSON; the caller's are ProviderCallErrors, so the invoker knows whether the request may
// have been delivered and whether another attempt could help.

/** A peer sent a frame that is not a valid invoke request or response. */
export class InvokeProtocolError extends MeshError {
  override name = 'InvokeProtocolError'
  constructor(peer: string, field: string, rule: string, cause?: unknown) {
    super('E_PEER_PROTOCOL', `Peer ${peer} sent a malformed invoke frame: ${field} ${rule}`, {
      details: { peer, field, rule },
      hint: 'The peer runs an incompatible or broken implementation of /fmesh/invoke/1.0.0; nothing was run.',
      cause,
    })
  }
}

/** The request names a protocol version this node does not speak. */
export class PeerVersionError extends MeshError {
  override name = 'PeerVersionError'
  constructor(peer: string, got: unknown, supported: readonly number[]) {
    super('E_PEER_VERSION_UNSUPPORTED', `Peer ${peer} asked for invoke protocol version ${String(got)}`, {
      details: { peer, got: String(got).slice(0, 32), supported },
      hint: `This node speaks versions ${supported.join(', ')}; upgrade the older node. Nothing was run.`,
    })
  }
}

/** The peer sent more invoke requests than its rate allows. */
export class InvokeRateLimitedError extends MeshError {
  override name = 'InvokeRateLimitedError'
  constructor(peer: string, perSecond: number, burst: number, retryAfterMs: number) {
    super('E_PEER_RATE_LIMITED', `Peer ${peer} is over its invoke rate limit`, {
      details: { peer, perSecond, burst, retryAfterMs },
      hint: `Slow down: at most ${perSecond} calls a second (bursts of ${burst}) per peer. Nothing was run.`,
    })
  }
}

/** The host runs as many invocations as it allows (in total or for this peer), or is stopping. */
export class InvokeBusyError extends MeshError {
  override name = 'InvokeBusyError'
  constructor(peer: string, scope: 'node' | 'peer' | 'stopping', limit: number) {
    super(
      'E_PEER_BUSY',
      scope === 'stopping'
        ? 'The host is shutting down and takes no new invocations'
        : `The host has ${limit} invocations in flight${scope === 'peer' ? ' for this peer' : ''}`,
      {
        details: { peer, scope, ...(scope === 'stopping' ? {} : { limit }) },
        hint: 'Retry later or call another provider. Nothing was run.',
      },
    )
  }
}

/** A request is over the host's size limit. */
export class PeerRequestTooLargeError extends MeshError {
  override name = 'PeerRequestTooLargeError'
  constructor(peer: string, part: 'header' | 'input' | 'frame', bytes: number | undefined, limit: number) {
    super(
      'E_PEER_REQUEST_TOO_LARGE',
      `The invoke request's ${part} is ${bytes === undefined ? 'over' : `${bytes} bytes, over`} the ${limit} byte limit`,
      {
        details: { peer, part, ...(bytes === undefined ? {} : { bytes }), limit },
        hint: 'Send a smaller input, or raise maxInputBytes on the host. Nothing was run.',
      },
    )
  }
}

/** The peer did not send its whole request in time. */
export class PeerRequestTimeoutError extends MeshError {
  override name = 'PeerRequestTimeoutError'
  constructor(peer: string, timeoutMs: number) {
    super('E_PEER_REQUEST_TIMEOUT', `Peer ${peer} did not send its invoke request within ${timeoutMs} ms`, {
      details: { peer, timeoutMs },
      hint: 'The stream was closed. Nothing was run.',
    })
  }
}

/** The host does not serve this function to peers. */
export class PeerFunctionNotHostedError extends MeshError {
  override name = 'PeerFunctionNotHostedError'
  constructor(peer: string, fn: string) {
    super('E_PEER_FUNCTION_NOT_HOSTED', `This node does not host ${fn} for peers`, {
      details: { peer, function: fn },
      hint: 'The record names a provider that no longer serves this version here; call another provider. Nothing was run.',
    })
  }
}

/** The host ran the function but its output is larger than the caller accepts. */
export class PeerResponseTooLargeError extends MeshError {
  override name = 'PeerResponseTooLargeError'
  constructor(fn: string, bytes: number, limit: number) {
    super(
      'E_PEER_RESPONSE_TOO_LARGE',
      `The output of ${fn} is ${bytes} bytes, over the caller's ${limit} byte limit`,
      {
        details: { function: fn, bytes, limit },
        hint: 'The caller may raise invoke.maxResponseBytes in its mesh options.',
      },
    )
  }
}

/** A `libp2p:` endpoint that does not name a peer. */
export class PeerEndpointInvalidError extends ProviderCallError {
  override name = 'PeerEndpointInvalidError'
  constructor(provider: string, endpoint: string, rule: string, cause?: unknown) {
    super(
      'E_PEER_ENDPOINT_INVALID',
      `Provider ${provider} has an invalid libp2p endpoint: ${rule}`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { provider, endpoint: endpoint.slice(0, 300) },
        hint: 'A libp2p endpoint is libp2p:/p2p/<peer id> or libp2p:<multiaddr ending in /p2p/<peer id>>; the publisher must fix the record.',
        cause,
      },
    )
  }
}

/** The host answered the call with an error of its own (its code is kept as `remoteCode`). */
export class PeerCallFailedError extends ProviderCallError {
  override name = 'PeerCallFailedError'
  readonly remoteCode: string
  constructor(
    provider: string,
    endpoint: string,
    remote: { code: string; message: string; invocation?: string | undefined },
    facts: { sent: boolean; retryable: boolean },
  ) {
    super(
      'E_PEER_CALL_FAILED',
      `Provider ${provider} (a peer) failed the call: ${remote.code}: ${remote.message}`,
      { sent: facts.sent, retryable: facts.retryable, failure: failureKind(remote.code) },
      {
        details: {
          provider,
          endpoint,
          remoteCode: remote.code,
          remoteMessage: remote.message,
          ...(remote.invocation === undefined ? {} : { remoteInvocation: remote.invocation }),
          ran: facts.sent,
        },
        hint: facts.sent
          ? "The host may have run it; the mesh retries only where the function's idempotency class allows."
          : 'The host refused before running anything; another provider may serve the call.',
      },
    )
    this.remoteCode = remote.code
  }
}

/** How a host's refusal counts against its health: busy or absent is unavailable, a passed deadline a timeout. */
function failureKind(code: string): 'error' | 'timeout' | 'unavailable' {
  if (code === 'E_PEER_RATE_LIMITED' || code === 'E_PEER_BUSY' || code === 'E_PEER_FUNCTION_NOT_HOSTED')
    return 'unavailable'
  if (code === 'E_DEADLINE_EXCEEDED' || code === 'E_PEER_REQUEST_TIMEOUT') return 'timeout'
  return 'error'
}

/** The host failed for a reason of its own (not the caller's request, not the function). */
export class PeerHostError extends MeshError {
  override name = 'PeerHostError'
  constructor(reason: string, cause?: unknown) {
    super('E_PEER_HOST_FAILED', `The host failed to run the call: ${reason}`, {
      details: { reason: reason.slice(0, 300) },
      hint: 'The host logs the cause (DEBUG=fmesh:*). Retrying may help.',
      cause,
    })
  }
}
