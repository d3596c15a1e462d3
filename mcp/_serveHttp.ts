import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'

/** Largest JSON-RPC request body read. @default 4194304 (4 MiB) */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024

/** A streamable HTTP MCP endpoint on 127.0.0.1, one SDK `Server` per session. */
export interface StreamableHttpHandle {
  /** `http://127.0.0.1:PORT/PATH`. */
  readonly url: string
  readonly port: number
  /** Sessions open now. */
  readonly sessions: number
  /** Calls `fn` with every open session's server (to send notifications to all of them). */
  forEach(fn: (server: Server) => void): void
  close(): Promise<void>
}

/**
 * Serves MCP over streamable HTTP (stateful sessions, DNS-rebinding protection on) at
 * `http://127.0.0.1:PORT/PATH`. `makeServer` builds one `Server` per session; it is closed when the
 * session ends or the handle closes.
 */
export async function serveStreamableHttp(
  makeServer: () => Server,
  options: { port?: number; path?: string } = {},
): Promise<StreamableHttpHandle> {
  const path = options.path ?? '/mcp'
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>()
  let port = options.port ?? 0
  const http = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, -32603, `internal error: ${(err as Error)?.message ?? err}`)
    })
  })
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== path)
      return reply(res, 404, -32600, `no MCP endpoint at ${url.pathname}; use ${path}`)
    const id = req.headers['mcp-session-id']
    const sessionId = Array.isArray(id) ? id[0] : id
    let body: unknown
    if (req.method === 'POST') {
      const read = await readJson(req)
      if (!read.ok) return reply(res, read.status, -32700, read.reason)
      body = read.value
    }
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId)
      if (session === undefined) return reply(res, 404, -32001, 'unknown or expired session')
      return session.transport.handleRequest(req, res, body)
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      return reply(res, 400, -32000, 'no session: start with an initialize request')
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableDnsRebindingProtection: true,
      allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`],
      onsessioninitialized: (sid) => {
        sessions.set(sid, { transport, server })
      },
    })
    const server = makeServer()
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
      void server.close().catch(() => {})
    }
    await server.connect(transport)
    await transport.handleRequest(req, res, body)
  }
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => {
      http.off('error', reject)
      resolve()
    })
  })
  port = (http.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    get sessions() {
      return sessions.size
    },
    forEach(fn) {
      for (const { server } of sessions.values()) fn(server)
    },
    async close() {
      const all = [...sessions.values()]
      sessions.clear()
      await Promise.all(all.map(({ transport }) => transport.close().catch(() => {})))
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

function reply(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }))
}

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; status: number; reason: string }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_REQUEST_BYTES)
      return { ok: false, status: 413, reason: `the body is over ${MAX_REQUEST_BYTES} bytes` }
    chunks.push(chunk)
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) }
  } catch {
    return { ok: false, status: 400, reason: 'the body is not JSON' }
  }
}
