import '../src/_polyfill.js'

// function-mesh/gateway: the HTTP gateway service, its token helpers and its errors.

export type { PeerInfo, RecentCall } from './_liveState.js'
export { DEFAULT_RATE_LIMIT, type RateLimitInit } from './_rateLimit.js'
export {
  BodyMalformedError,
  BodyTooLargeError,
  ForbiddenError,
  GatewayListenError,
  GatewayNotStartedError,
  GatewayUiMissingError,
  InternalError,
  MethodNotAllowedError,
  NoPeerNodeError,
  RateLimitedError,
  RequestInvalidError,
  RouteNotFoundError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from './errors.js'
export {
  DEFAULT_GATEWAY_HOST,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RECENT_CALLS,
  type HttpGateway,
  type HttpGatewayFactory,
  type HttpGatewayInit,
  httpGateway,
} from './httpGateway.js'
export { STATUS_BY_CODE, STATUS_BY_PREFIX, statusOf } from './status.js'
export {
  ALL_TOKEN_SCOPES,
  type GatewayToken,
  generateToken,
  hashToken,
  TOKEN_SCOPES,
  type TokenScope,
} from './tokens.js'
