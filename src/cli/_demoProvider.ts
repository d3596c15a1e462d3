import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Two real HTTP providers of `acme.com/text/reverse` for the demo, on 127.0.0.1 and an ephemeral
 * port: `/fast` answers at once, `/cheap` after 40 ms. Both reverse `input.text`. `fail('/cheap')`
 * makes that path answer 503 from then on, as a provider that falls over mid-run.
 */
export async function startDemoProviders(): Promise<{
  url(path: '/fast' | '/cheap'): string
  fail(path: '/fast' | '/cheap'): void
  /** Requests each path received, failed ones included. */
  readonly hits: Readonly<Record<'/fast' | '/cheap', number>>
  close(): Promise<void>
}> {
  const failing = new Set<string>()
  const hits = { '/fast': 0, '/cheap': 0 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = req.url?.startsWith('/cheap') ? '/cheap' : '/fast'
      hits[path]++
      if (failing.has(path)) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down for the demo"}')
        return
      }
      let text: unknown
      try {
        text = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown }).text
      } catch {
        text = undefined
      }
      if (req.method !== 'POST' || typeof text !== 'string') {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"POST {\\"text\\": string}"}')
        return
      }
      const body = JSON.stringify({ text: [...text].reverse().join('') })
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      if (path === '/cheap') setTimeout(answer, 40)
      else answer()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    fail: (path) => failing.add(path),
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
