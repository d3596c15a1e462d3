import '../_polyfill.js'

// `function-mesh/transport`: the built-in transports and the contract of a new one.
export { DEFAULT_MAX_RESPONSE_BYTES, type HttpTransportInit, httpTransport } from './httpTransport.js'
export { type GovernedCallContext, localTransport } from './localTransport.js'
export type { Transport, TransportRequest, TransportResponse } from './types.js'
