import '../src/_polyfill.js'

export type { SyncReport } from './_syncProtocol.js'
export {
  PeerBusyError,
  PeerDialError,
  PeerKeyError,
  PeerLibp2pUnsuitableError,
  PeerListenError,
  PeerMessageTooLargeError,
  PeerNodeClosedError,
  PeerProtocolError,
  PeerRateLimitedError,
  PeerRemoteError,
  PeerRequestInvalidError,
  PeerTimeoutError,
  PeerVersionUnsupportedError,
} from './errors.js'
export {
  InvokeBusyError,
  InvokeProtocolError,
  InvokeRateLimitedError,
  PeerCallFailedError,
  PeerEndpointInvalidError,
  PeerFunctionNotHostedError,
  PeerHostError,
  PeerRequestTimeoutError,
  PeerRequestTooLargeError,
  PeerResponseTooLargeError,
  PeerVersionError,
} from './invokeErrors.js'
export { invokeOnNode, type PeerInvokeOptions } from './invokeOnNode.js'
export {
  DEFAULT_MAX_RESPONSE_HEADER_BYTES,
  type HostMesh,
  INVOKE_PROTOCOL,
  type InvokeService,
  type Libp2pTarget,
  type Libp2pTransportOptions,
  libp2pTransport,
  parseLibp2pEndpoint,
  type ServeInvocationsOptions,
  serveInvocations,
} from './invokeProtocol.js'
export {
  DEFAULT_LISTEN,
  DEFAULT_PEER_LIMITS,
  DEFAULT_SYNC_INTERVAL_MS,
  LOOKUP_PROTOCOL,
  type PeerLimits,
  RECORDS_TOPIC,
  SYNC_PROTOCOL,
} from './limits.js'
export { peerNode } from './peerNode.js'
export type {
  PeerInfo,
  PeerNode,
  PeerNodeInit,
  PeerProtocolContext,
  PeerProtocolFactory,
} from './peerNodeOptions.js'
export type { PeerRegistry } from './peerRegistry.js'
export { RecordStore, type StoredRecord } from './recordStore.js'
