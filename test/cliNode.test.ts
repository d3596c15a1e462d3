import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TEST_TIMEOUT_MS, runCli, startCliNode } from './_helpers/cli.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

const root = new URL('..', import.meta.url).pathname
const entry = join(root, 'src/cli/main.ts')
const tsx = join(root, 'node_modules/tsx/dist/esm/index.mjs')

let dir: string
let key: string
let provider: Awaited<ReturnType<typeof startHttpProvider>>
let node: ChildProcess | undefined
let peerId: string

const env = () => {
  const e = { ...process.env }
  delete e.FMESH_DATA_DIR
  delete e.FMESH_CONFIG
  return e
}
const cli = (args: string[]) => runCli(args, { cwd: dir, env: env() })
const json = async (args: string[]) => {
  const r = await cli([...args, '--json'])
  if (r.code !== 0) throw new Error(`fmesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}
const apiFile = () => join(dir, '.fmesh', 'node', 'api.json')

const draft = (name: string, endpoint: string) => ({
  name,
  latestVersion: '1.0.0',
  versions: {
    '1.0.0': {
      descriptor: {
        maxRisk: 'read-only',
        idempotency: 'idempotent',
        allowedByDefault: true,
        inputSchema: { type: 'object' },
      },
      providers: [{ id: 'p1', endpoint, cost: { unit: 'USDC', baseUnits: '2000' }, avgResponseTimeMs: 50 }],
    },
  },
})

/** `fmesh node start --json` in the background; resolves once it has printed its peer id (api.json is written). */
const startNode = (cwd: string, extra: string[] = []) =>
  startCliNode<{ peerId: string; addrs: string[] }>(cwd, { args: extra, env: env() })

beforeAll(async () => {
  provider = await startHttpProvider()
  dir = await mkdtemp(join(tmpdir(), 'fmesh-node-'))
  key = (await json(['init', '--namespace', 'acme.com'])).key.file
  await writeFile(
    join(dir, 'sharpen.json'),
    JSON.stringify(draft('acme.com/image/sharpen', provider.url('/ok'))),
  )
  const first = startNode(dir)
  node = first.child
  peerId = (await first.started).peerId
}, 120_000)
afterAll(async () => {
  if (node?.exitCode === null && node.signalCode === null) node.kill('SIGKILL')
  await provider.close()
  await rm(dir, { recursive: true, force: true })
})

describe('fmesh through a running node (fmesh node start on the data dir)', {
  timeout: CLI_TEST_TIMEOUT_MS,
}, () => {
  it('node start writes node/api.json (0600); node status and node peers answer from it', async () => {
    expect((await stat(apiFile())).mode & 0o777).toBe(0o600)
    const api = JSON.parse(await readFile(apiFile(), 'utf8'))
    expect(api).toMatchObject({
      peerId,
      pid: node!.pid,
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    })
    const status = await json(['node', 'status'])
    expect(status).toMatchObject({ peerId, pid: node!.pid, api: api.url, records: 0, peers: [] })
    expect(status.addrs[0]).toMatch(new RegExp(`^/ip4/127.0.0.1/tcp/\\d+/p2p/${peerId}$`))
    expect(status.registries.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['git', 'ok'],
      ['peer', 'ok'],
    ])
    const text = await cli(['node', 'status'])
    expect([text.code, text.stdout.split('\n')[0]]).toEqual([
      0,
      expect.stringMatching(new RegExp(`^peer node ${peerId} \\(pid ${node!.pid}\\), up \\d+`)),
    ])
    expect(await json(['node', 'peers'])).toEqual({ peerId, peers: [] })
  })

  it('node peers lists a second node that bootstrapped from this one, with its address and score', async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'fmesh-node2-'))
    const status = await json(['node', 'status'])
    const second = startNode(dir2, ['--bootstrap', status.addrs[0]])
    try {
      const other = (await second.started).peerId
      let peers: { peerId: string; addrs: string[]; latencyMs: number | null; score: number }[] = []
      // The dial from the second node lands a moment after it has started.
      for (let i = 0; i < 100 && peers.length === 0; i++) {
        peers = (await json(['node', 'peers'])).peers
        if (peers.length === 0) await new Promise((r) => setTimeout(r, 100))
      }
      expect(peers).toEqual([
        {
          peerId: other,
          addrs: [expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)],
          latencyMs: expect.any(Number),
          score: expect.any(Number),
        },
      ])
      const text = await cli(['node', 'peers'])
      expect(text.stdout.split('\n').at(-2)).toBe(`1 peer connected to ${peerId}`)
    } finally {
      second.child.kill('SIGINT')
      await new Promise((resolve) => second.child.on('close', resolve))
      await rm(dir2, { recursive: true, force: true })
    }
  }, 60_000)

  it('publish, call (and its replay), lease grant and yank go through the node and say so; usage reads beside it', async () => {
    const via = `node ${peerId}`
    const published = await json(['publish', 'sharpen.json', '--key', key])
    expect(published).toMatchObject({ name: 'acme.com/image/sharpen', seq: 1, via })
    const called = await json([
      'call',
      'acme.com/image/sharpen',
      '--input',
      '{"image":"x"}',
      '--idempotency-key',
      'k1',
    ])
    expect(called).toMatchObject({ via, replayed: false, charge: { amount: '2000', currency: 'USDC' } })
    // The replay answers the first result and says it was not charged again.
    const again = await cli([
      'call',
      'acme.com/image/sharpen',
      '--input',
      '{"image":"x"}',
      '--idempotency-key',
      'k1',
    ])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(
      '  charge      none: replayed, not charged again (the first call: 2000 USDC)\n',
    )
    expect(again.stdout).toContain(`  via         ${via}\n`)
    // The node holds the ledger; a reader opens it read-only beside it.
    expect(await json(['usage', '--by', 'function'])).toMatchObject({
      rows: [{ key: 'acme.com/image/sharpen', calls: 1 }],
    })
    expect((await cli(['usage'])).stdout).toMatch(/ 2000 USDC {2}\(1 call\)\n1 row\n$/)
    // dispatch reaches the functions of the node's process (none are registered in this one).
    expect(await json(['dispatch', 'order.created', '--event', '{"id":1}'])).toEqual({
      kind: 'order.created',
      via,
      results: [],
    })
    // The node's refusals come back as they were, with their exit code.
    const unknown = await cli(['call', 'acme.com/image/nothing'])
    expect([unknown.code, unknown.stderr.split(' ')[1]]).toEqual([3, 'E_FUNCTION_NOT_FOUND:'])
    const lease = await json(['lease', 'grant', '--capabilities', 'acme.com/**', '--budget', 'USDC=5000'])
    expect(lease).toMatchObject({ via, capabilities: ['acme.com/**'] })
    const listed = async (extra: string[] = []) =>
      (await json(['lease', 'list', ...extra])).leases.map((l: { id: string; revoked: boolean }) => [
        l.id,
        l.revoked,
      ])
    expect(await listed()).toEqual([[lease.id, false]])
    expect(await json(['lease', 'revoke', lease.id])).toEqual({ id: lease.id, revoked: true, via })
    expect([await listed(), await listed(['--all'])]).toEqual([[], [[lease.id, true]]])
    expect(await json(['yank', 'acme.com/image/sharpen@1.0.0', '--key', key])).toMatchObject({
      mark: 'yank',
      seq: 2,
      via,
    })
  })

  it('Ctrl-C during a call through the node cancels it on the node: exit 130, failed in the lineage, not charged', async () => {
    await writeFile(
      join(dir, 'hang.json'),
      JSON.stringify(draft('acme.com/slow/hang', provider.url('/hang'))),
    )
    await json(['publish', 'hang.json', '--key', key])
    const child = spawn(process.execPath, ['--import', tsx, entry, 'call', 'acme.com/slow/hang', '--json'], {
      cwd: dir,
      env: env(),
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      await provider.next('/hang')
      child.kill('SIGINT')
      expect(await ended).toBe(130)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    expect(JSON.parse(stderr.slice(stderr.indexOf('{'))).error).toMatchObject({ code: 'E_INTERRUPTED' })
    // The node ends the call once the request is gone; the ledger then says it failed, uncharged.
    let calls: { function: string; outcome: string; charge: unknown }[] = []
    for (let i = 0; i < 100; i++) {
      calls = (await json(['calls', '--function', 'acme.com/slow/hang'])).calls
      if (calls[0]?.outcome === 'failed') break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(calls).toMatchObject([{ outcome: 'failed' }])
    expect((await json(['usage', '--by', 'function'])).rows.map((r: { key: string }) => r.key)).toEqual([
      'acme.com/image/sharpen',
    ])
  }, 60_000)

  it('error: a token the node does not know is refused (exit 4) with what to do', async () => {
    const saved = await readFile(apiFile(), 'utf8')
    await writeFile(apiFile(), JSON.stringify({ ...JSON.parse(saved), token: 'fmt_not-the-nodes-token' }))
    try {
      const r = await cli(['lease', 'grant', '--capabilities', 'acme.com/**', '--budget', 'USDC=1'])
      expect([r.code, ...r.stderr.split('\n').slice(0, 2)]).toEqual([
        4,
        'error E_UNAUTHORIZED: The bearer token is not one this gateway knows',
        "  The token in node/api.json is not the node's: restart `fmesh node start`, or pass --offline.",
      ])
    } finally {
      await writeFile(apiFile(), saved, { mode: 0o600 })
    }
  })

  it('a clean stop removes api.json; a stale one (dead pid) is ignored with a one-line notice, node status says no node', async () => {
    const saved = await readFile(apiFile(), 'utf8')
    const ended = new Promise((resolve) => node!.on('close', resolve))
    node!.kill('SIGINT')
    await ended
    await expect(stat(apiFile())).rejects.toMatchObject({ code: 'ENOENT' })
    // The file a crashed node leaves behind: its pid is gone.
    await writeFile(apiFile(), saved, { mode: 0o600 })
    const pid = JSON.parse(saved).pid
    const granted = await cli(['lease', 'grant', '--capabilities', 'acme.com/**', '--budget', 'USDC=1'])
    expect([granted.code, granted.stderr]).toEqual([
      0,
      `note: ignoring stale ${apiFile()}: pid ${pid} is not running; running on the data dir directly\n`,
    ])
    expect(granted.stdout).toMatch(/^lease lease_/)
    const status = await cli(['node', 'status'])
    expect([status.code, status.stderr.split('\n')[0]]).toEqual([
      3,
      `error E_NODE_NOT_RUNNING: No node is running on the data dir ${join(dir, '.fmesh')}`,
    ])
    // --offline never looks: no notice.
    const offline = await cli([
      'lease',
      'grant',
      '--capabilities',
      'acme.com/**',
      '--budget',
      'USDC=1',
      '--offline',
    ])
    expect([offline.code, offline.stderr]).toEqual([0, ''])
  })
})
