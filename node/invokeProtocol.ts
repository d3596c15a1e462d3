import type { Libp2p } from '@libp2p/interface'
import type { Transport } from '../src/transport/types.js'
import { Libp2pCaller, type Libp2pTransportOptions } from './_invokeCaller.js'
import { type HostMesh, InvokeHost } from './_invokeHost.js'
import {
  checkServeArguments,
  checkTransportArguments,
  type ServeInvocationsOptions,
} from './_invokeOptions.js'

export {
  DEFAULT_MAX_RESPONSE_HEADER_BYTES,
  type Libp2pTarget,
  type Libp2pTransportOptions,
  parseLibp2pEndpoint,
} from './_invokeCaller.js'
export type { HostMesh } from './_invokeHost.js'
export {
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_MAX_CONCURRENT_PER_PEER,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_TIMEOUT_MS,
  DEFAULT_RATE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ServeInvocationsOptions,
} from './_invokeOptions.js'
export { INVOKE_PROTOCOL } from './_invokeWire.js'

/** What `serveInvocations` returns. */
export interface InvokeService {
  /**
   * Stops accepting invoke streams and waits for running calls to finish (each leaves its lineage);
   * when `signal` fires first, running calls are aborted and fail, with lineage.
   */
  stop(options?: { signal?: AbortSignal }): Promise<void>
}

/**
 * Hosts this mesh's marketplace functions for remote callers over `/fmesh/invoke/1.0.0` on a started
 * libp2p node. Each request runs through `mesh.call` under the host's own governance (its deadline,
 * schemas, idempotency keys, lineage and billing), restricted to this node's in-process providers: a
 * peer can never make the host call out to a third provider. The host's FUNCTION_INVOKED entry names
 * the caller's invocation id (`callerInvocation`); the host's id goes back in the response.
 *
 * @example
 * ```ts
 * upper.register(mesh.marketplace)
 * const service = await serveInvocations(libp2p, mesh, { clock, rate: { perSecond: 50, burst: 100 } })
 * // peers now call acme.com/text/upper@1.0.0 at libp2p:/p2p/<this node's peer id>
 * await service.stop()
 * ```
 */
export async function serveInvocations(
  libp2p: Libp2p,
  mesh: HostMesh,
  options: ServeInvocationsOptions = {},
): Promise<InvokeService> {
  const host = new InvokeHost(libp2p, mesh, checkServeArguments(libp2p, mesh, options))
  await host.start()
  return { stop: (o) => host.stop(o) }
}

/**
 * The mesh `Transport` for `libp2p:/p2p/<peer id>` endpoints (or `libp2p:/ip4/…/tcp/…/p2p/<peer id>`
 * to dial that address). Sends the canonical input with the invocation id, attempt, idempotency key,
 * traceparent, principal, the time left before the deadline and the response size limit; aborts the
 * stream when the call's signal fires (the host then aborts its handler). The host's invocation id
 * comes back as `providerInvocation` and is recorded in the caller's FUNCTION_COMPLETED entry.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ transports: [libp2pTransport(libp2p)], registries, trust })
 * await mesh.call('acme.com/text/upper@^1', { text: 'hi' }) // a provider at libp2p:/p2p/12D3KooW…
 * ```
 */
export function libp2pTransport(libp2p: Libp2p, options: Libp2pTransportOptions = {}): Transport {
  return new Libp2pCaller(libp2p, checkTransportArguments(libp2p, options))
}
