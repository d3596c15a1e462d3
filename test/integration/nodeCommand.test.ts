import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { until } from '../_helpers/until.js'

const root = new URL('../..', import.meta.url).pathname

/** Starts `fmesh node start ARGS` from source; resolves with its output once it printed a whole JSON document. */
function startNode(args: string[], dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', 'start', ...args], {
    cwd: root,
    env: { ...process.env, FMESH_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, out: () => stdout, err: () => stderr }
}

describe('fmesh node start', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('prints its peer id and addresses (--json), joins a bootstrap peer and stops cleanly on SIGTERM and SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-node-cli-'))
    dirs.push(dir)
    const config = join(dir, 'fmesh.json')
    await writeFile(
      config,
      JSON.stringify({
        dataDir: join(dir, 'a'),
        registries: [{ type: 'memory' }],
        node: { listen: ['/ip4/127.0.0.1/tcp/0'], syncIntervalMs: 0 },
      }),
    )
    const a = startNode(['--json', '--config', config], join(dir, 'a'))
    const first = await until(
      () => {
        try {
          return JSON.parse(a.out()) as { peerId: string; addrs: string[]; registries: string[] }
        } catch {
          return undefined
        }
      },
      { timeoutMs: 20_000, what: "node a's JSON" },
    )
    expect(first.peerId).toMatch(/^12D3Koo/)
    expect(first.addrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${first.peerId}$`))

    const config2 = join(dir, 'fmesh2.json')
    await writeFile(config2, JSON.stringify({ dataDir: join(dir, 'b'), registries: [{ type: 'memory' }] }))
    const b = startNode(
      ['--config', config2, '--bootstrap', first.addrs[0]!, '--sync-interval', '0'],
      join(dir, 'b'),
    )
    await until(
      () => b.out().includes(`peer:connect ${first.peerId}`) && b.out().includes('Stop with Ctrl-C.'),
      {
        timeoutMs: 20_000,
        what: 'node b connected to node a',
      },
    )
    expect(b.out()).toMatch(/^peer node 12D3Koo/m)
    b.child.kill('SIGINT')
    a.child.kill('SIGTERM')
    expect(await b.exited).toBe(0)
    expect(await a.exited).toBe(0)
    expect(b.out()).toContain('SIGINT: stopping')
  }, 60_000)

  it('error: a bad config `node` section exits 2 (usage) with E_CONFIG_INVALID naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-node-cli-'))
    dirs.push(dir)
    const config = join(dir, 'fmesh.json')
    await writeFile(config, JSON.stringify({ registries: [{ type: 'memory' }], node: { bootstrap: 'x' } }))
    const run = startNode(['--json', '--config', config], dir)
    expect(await run.exited).toBe(2)
    expect(JSON.parse(run.err())).toMatchObject({ error: { code: 'E_CONFIG_INVALID' } })
    expect(run.err()).toContain('node.bootstrap')
  }, 30_000)

  it('error: a bad --listen address exits 2 (usage) with E_CONFIG_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-node-cli-'))
    dirs.push(dir)
    const run = startNode(['--json', '--listen', 'nowhere'], dir)
    expect(await run.exited).toBe(2)
    expect(JSON.parse(run.err())).toMatchObject({
      error: { code: 'E_CONFIG_INVALID', details: { path: 'peerNode.listen[0]' } },
    })
  }, 30_000)
})
