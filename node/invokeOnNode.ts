import type { Startable } from '../src/components.js'
import {
  type Libp2pTransportOptions,
  libp2pTransport,
  type ServeInvocationsOptions,
  serveInvocations,
} from './invokeProtocol.js'
import type { PeerProtocolContext, PeerProtocolFactory } from './peerNodeOptions.js'

/** What the peer node does with the invoke protocols, `/fmesh/invoke/1.1.0` and `1.0.0` (its `invoke` option). */
export interface PeerInvokeOptions {
  /**
   * Host this mesh's marketplace functions for peers (only local functions, under the mesh's
   * governance, with the host's own lineage); `false` calls out without hosting. @default {}
   */
  serve?: false | Omit<ServeInvocationsOptions, 'clock'>
  /** How calls to `libp2p:` providers go out. */
  call?: Libp2pTransportOptions
}

/**
 * The invoke protocol as one of the peer node's protocols: serves invocations to peers and adds the
 * `libp2p:` transport to the mesh, so `mesh.call` reaches providers at `libp2p:/p2p/<peerId>`.
 * Started after gossip, lookup and sync; stopped before them (in-flight hosted calls are cut short
 * with their lineage written).
 */
export function invokeOnNode(options: PeerInvokeOptions = {}): PeerProtocolFactory {
  return (context: PeerProtocolContext): Startable => {
    const { libp2p, components } = context
    let removeTransport: (() => void) | undefined
    let transport: ReturnType<typeof libp2pTransport> | undefined
    let host: Awaited<ReturnType<typeof serveInvocations>> | undefined
    return {
      async start() {
        if (options.serve !== false)
          host = await serveInvocations(libp2p, components.mesh, {
            ...options.serve,
            clock: components.clock,
          })
        transport = libp2pTransport(libp2p, options.call)
        removeTransport = components.addTransport(transport)
      },
      async stop() {
        removeTransport?.()
        removeTransport = undefined
        // Its keep-alive streams close with it: the libp2p node may be shared and keep running.
        await transport?.stop?.()
        transport = undefined
        await host?.stop()
        host = undefined
      },
    }
  }
}
