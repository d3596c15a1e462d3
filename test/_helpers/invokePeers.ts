import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import {
  type InvokeService,
  libp2pTransport,
  type ServeInvocationsOptions,
  serveInvocations,
} from '../../node/invokeProtocol.js'
import type { Clock } from '../../src/clock.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { Descriptor, RecordDraft } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner } from '../../src/trust/signer.js'

/** A real libp2p 3 node on 127.0.0.1 (TCP, noise, yamux, identify), started. */
export function loopbackNode(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
}

/** The `libp2p:` endpoint of a node, with its loopback address to dial. */
export function endpointOf(node: Libp2p): string {
  const addr = node.getMultiaddrs().find((a) => a.toString().startsWith('/ip4/127.0.0.1/tcp/'))
  if (addr === undefined) throw new Error('the node listens on no loopback TCP address')
  return `libp2p:${addr.toString()}`
}

interface DraftOptions {
  endpoint?: string
  baseUnits?: string
}

/** A record draft for `name@1.0.0` with one provider, `peer-host`, at `endpoint`. */
export function recordDraft(
  name: string,
  descriptor: Partial<Descriptor>,
  endpoint: string,
  baseUnits = '5',
): RecordDraft {
  return {
    name,
    versions: {
      '1.0.0': {
        descriptor: {
          inputSchema: { type: 'object' },
          outputSchema: { type: 'object' },
          maxRisk: 'read-only',
          idempotency: 'idempotent',
          ...descriptor,
        },
        providers: [{ id: 'peer-host', endpoint, cost: { unit: 'USDC', baseUnits } }],
      },
    },
  }
}

/**
 * Two meshes on two libp2p nodes: `host` serves its marketplace over the invoke protocol; `caller`
 * resolves records (published in its memory registry by `publish`) and calls through `libp2pTransport`.
 */
export async function invokePair(
  init: { callerClock?: Clock; hostClock?: Clock; serve?: ServeInvocationsOptions } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-invoke-p2p-'))
  const hostNode = await loopbackNode()
  const callerNode = await loopbackNode()
  const signer = await generateSigner()
  const host = await createMesh({
    ledger: { path: join(dir, 'host.sqlite') },
    dataDir: join(dir, 'host'),
    ...(init.hostClock === undefined ? {} : { clock: init.hostClock }),
  })
  const caller = await createMesh({
    ledger: { path: join(dir, 'caller.sqlite') },
    dataDir: join(dir, 'caller'),
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [signer.id] } },
    transports: [libp2pTransport(callerNode)],
    ...(init.callerClock === undefined ? {} : { clock: init.callerClock }),
  })
  const service: InvokeService = await serveInvocations(hostNode, host, {
    ...(init.hostClock === undefined ? {} : { clock: init.hostClock }),
    ...init.serve,
  })
  const endpoint = endpointOf(hostNode)
  return {
    host,
    caller,
    hostNode,
    callerNode,
    service,
    endpoint,
    signer,
    /** The draft of `name@1.0.0` with one provider at `endpoint` (the host by default). */
    draft: (name: string, descriptor: Partial<Descriptor> = {}, options: DraftOptions = {}) =>
      recordDraft(name, descriptor, options.endpoint ?? endpoint, options.baseUnits),
    /** Publishes that draft to the caller's registry. */
    publish: (name: string, descriptor: Partial<Descriptor> = {}, options: DraftOptions = {}) =>
      caller.publish(recordDraft(name, descriptor, options.endpoint ?? endpoint, options.baseUnits), {
        signer,
      }),
    close: async () => {
      await service.stop()
      await caller.close()
      await host.close()
      await callerNode.stop()
      await hostNode.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type InvokePair = Awaited<ReturnType<typeof invokePair>>
export type { Mesh }
