import type { Libp2p } from '@libp2p/interface'
import type { IpfsRegistry } from '../../registries/ipfs/index.js'
import { until } from './until.js'

/** What a promise rejects with, or undefined when it resolves. */
export function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

/** Dials `to` from `from` and waits until each holds the other in its DHT routing table. */
export async function connectIpfs(from: IpfsRegistry, to: IpfsRegistry, timeoutMs?: number): Promise<void> {
  const a = from.libp2p!
  const b = to.libp2p!
  await a.dial(b.getMultiaddrs()[0]!)
  const table = (node: Libp2p) =>
    (node.services as { dht: { routingTable: { find(p: unknown): Promise<unknown> } } }).dht.routingTable
  await until(
    async () =>
      (await table(a).find(b.peerId)) !== undefined && (await table(b).find(a.peerId)) !== undefined,
    {
      what: 'both DHT routing tables hold the other peer',
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
  )
}
