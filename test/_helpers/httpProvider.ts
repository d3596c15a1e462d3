import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'

/** One request the test provider received. */
export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: unknown
}

/**
 * A real HTTP provider on 127.0.0.1 (port 0) with one route per behaviour:
 * `/ok` answers `{ image: input.image + '!' }`; `/slow?ms=N` answers after N ms; `/fail` 500;
 * `/refuse` 400; `/flaky?n=N` 503 for the first N requests, then ok; `/wrong-schema` answers
 * `{ nope: 1 }`; `/oversized` a 2 MiB JSON string; `/oversized-chunked` the same without a
 * content-length; `/hang` never answers; `/quantity?q=N` ok with an `fmesh-quantity: N` header;
 * `/not-json` answers text.
 */
export async function startHttpProvider(): Promise<{
  url: (path: string) => string
  received: Received[]
  /** Requests that reached a handler, per path (without the query). */
  executions: (path: string) => number
  /** Resolves when the next request for `path` arrives. */
  next: (path: string) => Promise<Received>
  close: () => Promise<void>
}> {
  const received: Received[] = []
  const counts = new Map<string, number>()
  let flaky = 0
  const waiters: { path: string; resolve: (r: Received) => void }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        body = undefined
      }
      const got = { path: url.pathname, headers: req.headers, body }
      received.push(got)
      for (let i = waiters.length - 1; i >= 0; i--)
        if (waiters[i]!.path === url.pathname) waiters.splice(i, 1)[0]!.resolve(got)
      counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1)
      const ok = (extra: Record<string, string> = {}) => {
        res.writeHead(200, { 'content-type': 'application/json', ...extra })
        res.end(JSON.stringify({ image: `${(body as { image?: string })?.image ?? ''}!` }))
      }
      switch (url.pathname) {
        case '/ok':
          return ok()
        case '/slow':
          return void setTimeout(ok, Number(url.searchParams.get('ms') ?? 100))
        case '/fail':
          res.writeHead(500, { 'content-type': 'text/plain' })
          return res.end('internal error')
        case '/refuse':
          res.writeHead(400, { 'content-type': 'text/plain' })
          return res.end('bad request')
        case '/flaky':
          if (flaky++ < Number(url.searchParams.get('n') ?? 1)) {
            res.writeHead(503)
            return res.end()
          }
          return ok()
        case '/wrong-schema':
          res.writeHead(200, { 'content-type': 'application/json' })
          return res.end('{"nope":1}')
        case '/oversized': {
          const big = JSON.stringify('x'.repeat(2 * 1024 * 1024))
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) })
          return res.end(big)
        }
        case '/oversized-chunked': {
          res.writeHead(200, { 'content-type': 'application/json' })
          const piece = 'x'.repeat(64 * 1024)
          res.write('"')
          for (let i = 0; i < 40; i++) res.write(piece)
          return res.end('"')
        }
        case '/hang':
          return
        case '/quantity':
          return ok({ 'fmesh-quantity': url.searchParams.get('q') ?? '1' })
        case '/not-json':
          res.writeHead(200, { 'content-type': 'text/plain' })
          return res.end('hello')
        default:
          res.writeHead(404)
          return res.end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    executions: (path) => counts.get(path) ?? 0,
    next: (path) => new Promise<Received>((resolve) => waiters.push({ path, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A loopback URL where nothing listens (connection refused). */
export async function refusedUrl(): Promise<string> {
  // Port 2 is below the ephemeral range, so no test server (all listen on port 0) is ever handed it,
  // and fetch does not block it; a port taken and closed here could be bound again by another worker.
  const port = 2
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      reject(new Error(`something listens on 127.0.0.1:${port}; the refused-connection tests need it free`))
    })
    socket.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve() : reject(err),
    )
  })
  return `http://127.0.0.1:${port}/gone`
}
