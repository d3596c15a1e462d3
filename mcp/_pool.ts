import type { ConnectionTarget } from './_connection.js'
import { McpConnection } from './_connection.js'

/**
 * One live connection per server, shared by every call to it. A connection that closes (the process
 * exited, the session ended) leaves the pool, and the next call starts a new one: that is the
 * restart. A failed start is not kept either, so the next call tries again.
 */
export class ConnectionPool {
  private readonly live = new Map<string, Promise<McpConnection>>()
  private readonly ready = new Map<string, McpConnection>()
  private stopped = false
  /** Connections opened so far, per key (restarts show as a count above 1). */
  readonly opened = new Map<string, number>()

  constructor(private readonly connectTimeoutMs: number) {}

  get(key: string, target: ConnectionTarget): Promise<McpConnection> {
    const current = this.live.get(key)
    if (current !== undefined) return current
    if (this.stopped) return Promise.reject(new Error('the MCP transport is stopped'))
    this.opened.set(key, (this.opened.get(key) ?? 0) + 1)
    const opening = McpConnection.open(target, { timeoutMs: this.connectTimeoutMs })
    this.live.set(key, opening)
    opening.then(
      (connection) => {
        if (this.live.get(key) === opening) this.ready.set(key, connection)
        connection.onClose(() => {
          if (this.live.get(key) === opening) this.live.delete(key)
          if (this.ready.get(key) === connection) this.ready.delete(key)
        })
      },
      () => {
        if (this.live.get(key) === opening) this.live.delete(key)
      },
    )
    return opening
  }

  /** The open connection for `key`, without waiting (the warm path of every call). */
  peek(key: string): McpConnection | undefined {
    return this.ready.get(key)
  }

  /** Drops a connection that is no longer usable (an HTTP session the server forgot): closing it leaves the pool. */
  drop(connection: McpConnection): void {
    void connection.close()
  }

  async stop(): Promise<void> {
    this.stopped = true
    const all = [...this.live.values()]
    this.live.clear()
    this.ready.clear()
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => {})))
  }
}
