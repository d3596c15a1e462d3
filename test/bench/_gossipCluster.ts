import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LocalSigner } from '../../src/trust/signer.js'
import { type Cluster, Deliveries, rawKey } from './_propagation.js'

const here = dirname(fileURLToPath(import.meta.url))

/** One node process (test/bench/_gossipNode.ts) and its requests in flight. */
class NodeProcess {
  private next = 0
  private readonly pending = new Map<number, { resolve(v: never): void; reject(e: Error): void }>()
  readonly ready: Promise<string>

  constructor(
    private readonly child: ChildProcess,
    deliveries: Deliveries,
  ) {
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => {
        const error = new Error(`a gossip node process exited with ${code}`)
        reject(error)
        for (const p of this.pending.values()) p.reject(error)
      })
      child.on(
        'message',
        (m: { kind?: string; id?: number; key?: string; at?: number; addr?: string; error?: string }) => {
          if (m.kind === 'got') deliveries.push(m.key!, m.at!)
          else if (m.kind === 'ready') resolve(m.addr!)
          else if (m.id !== undefined) {
            const p = this.pending.get(m.id)
            this.pending.delete(m.id)
            if (m.error !== undefined) p?.reject(new Error(`gossip node: ${m.error}`))
            else p?.resolve(m as never)
          }
        },
      )
    })
  }

  ask<T>(request: Record<string, unknown>): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject })
      this.child.send({ id, ...request })
    })
  }

  stopped(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve()
    return new Promise((resolve) => this.child.once('exit', () => resolve()))
  }
}

/**
 * `size` nodes, each in a process of its own (as on machines of their own): a node's work delays
 * only itself, and the machine's cores are shared by the operating system. Times are taken in the
 * node processes on CLOCK_MONOTONIC, so the IPC channel's latency is not in them.
 */
export async function processEach(signer: LocalSigner, size: number): Promise<Cluster> {
  const deliveries = new Deliveries()
  const nodes = Array.from(
    { length: size },
    () =>
      new NodeProcess(
        fork(join(here, '_gossipNode.ts'), [signer.id], {
          execArgv: ['--import', 'tsx'],
          serialization: 'advanced',
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
        deliveries,
      ),
  )
  const stop = async () => {
    await Promise.allSettled(nodes.map((n) => n.ask({ kind: 'stop' })))
    await Promise.all(nodes.map((n) => n.stopped()))
  }
  try {
    const addrs = await Promise.all(nodes.map((n) => n.ready))
    for (let i = 0; i < size; i++) await nodes[i]!.ask({ kind: 'dial', addrs: addrs.slice(i + 1) })
    await Promise.all(nodes.map((n) => n.ask({ kind: 'subscribed', peers: size - 1 })))
  } catch (err) {
    await stop()
    throw err
  }
  const publish = async (key: string, request: Record<string, unknown>) => {
    const delivered = deliveries.expect(key, size - 1)
    const { t0 } = await nodes[0]!.ask<{ t0: number }>(request)
    return { t0, at: await delivered }
  }
  return {
    size,
    where: 'a process each',
    record: (record) =>
      publish(record.record.name, {
        kind: 'record',
        record: { record: record.record, bytes: record.bytes, id: record.id },
      }),
    raw: (data) => publish(rawKey(data), { kind: 'raw', data }),
    async cpu() {
      const all = await Promise.all(nodes.map((n) => n.ask<{ us: number }>({ kind: 'cpu' })))
      return all.reduce((sum, { us }) => sum + us, 0)
    },
    async meshes() {
      const all = await Promise.all(
        nodes.map((n) => n.ask<{ records: number; raw: number }>({ kind: 'mesh' })),
      )
      return { records: all.map((m) => m.records), raw: all.map((m) => m.raw) }
    },
    stop,
  }
}
