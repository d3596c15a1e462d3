import { execFile, spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface GitHttpServerInit {
  /** Directory holding the bare repositories served (GIT_PROJECT_ROOT). */
  root: string
  /** @default 0 (any free port) */
  port?: number
  /** When set, requests without this header and value get 401. */
  requireHeader?: { name: string; value: string }
}

/** A real Git smart-HTTP server: Node's http around the system `git http-backend` (CGI). */
export interface GitHttpServer {
  readonly root: string
  readonly port: number
  /** `http://127.0.0.1:<port>/<name>` for a repository under root. */
  url(name: string): string
  /** Creates a bare repository under root that accepts pushes; returns its URL. */
  createRepo(name: string, branch?: string): Promise<string>
  /** Requests served so far, by `METHOD path?query`. */
  readonly requests: readonly string[]
  /** Stops listening and drops open connections (the "server down" fault). */
  stop(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
}

/**
 * Starts a Git smart-HTTP server on 127.0.0.1. Pushes work (`http.receivepack` is on), gzip request
 * bodies are passed to http-backend with HTTP_CONTENT_ENCODING, and nothing is faked.
 */
export async function startGitHttpServer(init: GitHttpServerInit): Promise<GitHttpServer> {
  const { stdout } = await run('git', ['--exec-path'])
  const backend = join(stdout.trim(), 'git-http-backend')
  await mkdir(init.root, { recursive: true })
  const requests: string[] = []
  const sockets = new Set<Socket>()
  let port = init.port ?? 0
  let server: Server | undefined

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push(`${req.method} ${url.pathname}${url.search}`)
    if (init.requireHeader !== undefined) {
      const got = req.headers[init.requireHeader.name.toLowerCase()]
      if (got !== init.requireHeader.value) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' })
        res.end('unauthorized')
        return
      }
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: init.root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: 'test',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'true',
    }
    if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length']
    if (req.headers['content-encoding'] !== undefined)
      env.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
    if (req.headers['git-protocol'] !== undefined) env.GIT_PROTOCOL = String(req.headers['git-protocol'])
    const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    req.pipe(child.stdin)
    child.stdin.on('error', () => undefined)
    let head = Buffer.alloc(0)
    let headersDone = false
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      headersDone = true
      let status = 200
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':')
        if (colon === -1) continue
        const key = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10)
        else res.setHeader(key, value)
      }
      res.statusCode = status
      res.write(head.subarray(end + 4))
    })
    child.stdout.on('end', () => res.end())
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
    res.on('close', () => {
      if (child.exitCode === null) child.kill()
    })
  }

  const listen = async () => {
    const s = createServer(handle)
    s.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as AddressInfo).port
    server = s
  }
  await listen()

  return {
    root: init.root,
    get port() {
      return port
    },
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    async createRepo(name, branch = 'main') {
      const path = join(init.root, name)
      await run('git', ['init', '--quiet', '--bare', `--initial-branch=${branch}`, path])
      await run('git', ['-C', path, 'config', 'http.receivepack', 'true'])
      return `http://127.0.0.1:${port}/${name}`
    },
    requests,
    async stop() {
      const s = server
      server = undefined
      if (s === undefined) return
      const closed = new Promise<void>((resolve) => s.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      s.closeAllConnections()
      await closed
    },
    async restart() {
      if (server === undefined) await listen()
    },
  }
}
