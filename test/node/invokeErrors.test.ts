import { describe, expect, it } from 'vitest'
import * as E from '../../node/invokeErrors.js'
import { libp2pTransport, serveInvocations } from '../../node/invokeProtocol.js'

const P = '12D3KooWCVQUwb4fmH2Ax6fSK4v9ndCJwL8QAFGC2fjRvu4buHE4'

// The messages of the invoke protocol's errors, pinned: what a caller reads when a peer refuses.
const cases: [() => E.InvokeProtocolError | (Error & { code: string }), string, string][] = [
  [
    () => new E.InvokeProtocolError(P, 'invocation', 'is required'),
    'E_PEER_PROTOCOL',
    'Peer <peer> sent a malformed invoke frame: invocation is required\n  peer: <peer>\n  field: invocation\n  rule: is required\n\nThe peer runs an incompatible or broken implementation of /fmesh/invoke/1.0.0; nothing was run.',
  ],
  [
    () => new E.PeerVersionError(P, 2, [1]),
    'E_PEER_VERSION_UNSUPPORTED',
    'Peer <peer> asked for invoke protocol version 2\n  peer: <peer>\n  got: 2\n  supported: [1]\n\nThis node speaks versions 1; upgrade the older node. Nothing was run.',
  ],
  [
    () => new E.InvokeRateLimitedError(P, 100, 200, 10),
    'E_PEER_RATE_LIMITED',
    'Peer <peer> is over its invoke rate limit\n  peer: <peer>\n  perSecond: 100\n  burst: 200\n  retryAfterMs: 10\n\nSlow down: at most 100 calls a second (bursts of 200) per peer. Nothing was run.',
  ],
  [
    () => new E.InvokeBusyError(P, 'peer', 16),
    'E_PEER_BUSY',
    'The host has 16 invocations in flight for this peer\n  peer: <peer>\n  scope: peer\n  limit: 16\n\nRetry later or call another provider. Nothing was run.',
  ],
  [
    () => new E.PeerRequestTooLargeError(P, 'input', 5000, 4096),
    'E_PEER_REQUEST_TOO_LARGE',
    "The invoke request's input is 5000 bytes, over the 4096 byte limit\n  peer: <peer>\n  part: input\n  bytes: 5000\n  limit: 4096\n\nSend a smaller input, or raise maxInputBytes on the host. Nothing was run.",
  ],
  [
    () => new E.PeerRequestTimeoutError(P, 10000),
    'E_PEER_REQUEST_TIMEOUT',
    'Peer <peer> did not send its invoke request within 10000 ms\n  peer: <peer>\n  timeoutMs: 10000\n\nThe stream was closed. Nothing was run.',
  ],
  [
    () => new E.PeerFunctionNotHostedError(P, 'acme.com/x@1.0.0'),
    'E_PEER_FUNCTION_NOT_HOSTED',
    'This node does not host acme.com/x@1.0.0 for peers\n  peer: <peer>\n  function: acme.com/x@1.0.0\n\nThe record names a provider that no longer serves this version here; call another provider. Nothing was run.',
  ],
  [
    () => new E.PeerResponseTooLargeError('acme.com/x@1.0.0', 2000000, 1048576),
    'E_PEER_RESPONSE_TOO_LARGE',
    "The output of acme.com/x@1.0.0 is 2000000 bytes, over the caller's 1048576 byte limit\n  function: acme.com/x@1.0.0\n  bytes: 2000000\n  limit: 1048576\n\nThe caller may raise invoke.maxResponseBytes in its mesh options.",
  ],
  [
    () => new E.PeerEndpointInvalidError('p1', 'libp2p:/p2p/Qm', 'Qm is not a peer id'),
    'E_PEER_ENDPOINT_INVALID',
    'Provider p1 has an invalid libp2p endpoint: Qm is not a peer id\n  provider: p1\n  endpoint: libp2p:/p2p/Qm\n\nA libp2p endpoint is libp2p:/p2p/<peer id> or libp2p:<multiaddr ending in /p2p/<peer id>>; the publisher must fix the record.',
  ],
  [
    () =>
      new E.PeerCallFailedError(
        'p1',
        `libp2p:/p2p/${P}`,
        { code: 'E_INPUT_INVALID', message: 'Input for x is invalid', invocation: 'inv_1' },
        { sent: false, retryable: false },
      ),
    'E_PEER_CALL_FAILED',
    'Provider p1 (a peer) failed the call: E_INPUT_INVALID: Input for x is invalid\n  provider: p1\n  endpoint: libp2p:/p2p/<peer>\n  remoteCode: E_INPUT_INVALID\n  remoteMessage: Input for x is invalid\n  remoteInvocation: inv_1\n  ran: false\n\nThe host refused before running anything; another provider may serve the call.',
  ],
  [
    () => new E.PeerHostError('boom'),
    'E_PEER_HOST_FAILED',
    'The host failed to run the call: boom\n  reason: boom\n\nThe host logs the cause (DEBUG=fmesh:*). Retrying may help.',
  ],
]

describe('invoke protocol errors', () => {
  it.each(cases)('%#: %s says what happened and what to do', (make, code, message) => {
    const err = make() as Error & { code: string; toJSON(): { code: string } }
    expect(err.code).toBe(code)
    expect(err.message).toBe(message.replaceAll('<peer>', P))
    expect(err.toJSON().code).toBe(code)
  })
})

describe('invoke protocol arguments', () => {
  const node = { handle: () => {}, dialProtocol: () => {}, getConnections: () => [] } as never
  const mesh = { call: () => {}, marketplace: {} } as never

  it.each([
    [() => serveInvocations({} as never, mesh), 'E_INVALID_ARGUMENT', 'serveInvocations: libp2p must be'],
    [() => serveInvocations(node, null as never), 'E_INVALID_ARGUMENT', 'serveInvocations: mesh must be'],
    [() => serveInvocations(node, mesh, { maxInputBytes: -1 }), 'E_CONFIG_INVALID', 'maxInputBytes: must be'],
    [
      () => serveInvocations(node, mesh, { rate: { perSecond: 0, burst: 1 } }),
      'E_CONFIG_INVALID',
      'rate.perSecond',
    ],
    [
      () => serveInvocations(node, mesh, { rate: { perSecond: 1 } as never }),
      'E_CONFIG_INVALID',
      'rate.burst',
    ],
    [
      () => serveInvocations(node, mesh, { maxInput: 1 } as never),
      'E_CONFIG_INVALID',
      'maxInput: is not an option',
    ],
    [
      () => serveInvocations(node, mesh, { allow: true } as never),
      'E_CONFIG_INVALID',
      'allow: must be a function',
    ],
    [async () => libp2pTransport(null as never), 'E_INVALID_ARGUMENT', 'libp2pTransport: libp2p must be'],
    [
      async () => libp2pTransport(node, { maxResponseHeaderBytes: 0 }),
      'E_CONFIG_INVALID',
      'maxResponseHeaderBytes',
    ],
    [
      async () => libp2pTransport(node, { keepAlive: 'yes' } as never),
      'E_CONFIG_INVALID',
      'keepAlive: must be a boolean',
    ],
    [
      () => serveInvocations(node, mesh, { sessionIdleMs: 0 }),
      'E_CONFIG_INVALID',
      'sessionIdleMs: must be an integer',
    ],
  ] as const)('error: %# refuses bad arguments with %s', async (make, code, text) => {
    const err = (await Promise.resolve()
      .then(make as () => Promise<unknown>)
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { code: string; message: string } | undefined
    expect(err?.code).toBe(code)
    expect(err?.message).toContain(text)
  })
})
