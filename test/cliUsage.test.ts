import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { CommandDef, Resolvable } from 'citty'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/_commands.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

const root = new URL('..', import.meta.url).pathname
const entry = join(root, 'src/cli/main.ts')
const tsx = join(root, 'node_modules/tsx/dist/esm/index.mjs')
const run = promisify(execFile)

/** Runs `fmesh` in `cwd` with no data dir configured, so anything it creates lands in `cwd`. */
const cli = (args: string[], cwd: string) => {
  const env = { ...process.env }
  delete env.FMESH_DATA_DIR
  delete env.FMESH_CONFIG
  return run(process.execPath, ['--import', tsx, entry, ...args], { cwd, env }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  )
}

const resolved = <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  Promise.resolve(typeof value === 'function' ? (value as () => T | Promise<T>)() : value)

/** Every command path in the tree: `call`, `keys new`, `lineage verify`, ... */
async function commandPaths(command: CommandDef, path: string[] = []): Promise<string[][]> {
  const subCommands = await resolved(command.subCommands)
  if (subCommands === undefined) return [path]
  const paths: string[][] = command.run === undefined ? [] : [path]
  for (const [name, sub] of Object.entries(subCommands))
    paths.push(...(await commandPaths((await resolved(sub))!, [...path, name])))
  return paths
}

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function emptyDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fmesh-usage-'))
  dirs.push(dir)
  return dir
}

describe('fmesh usage', () => {
  it('--help on every command prints its usage, runs nothing and creates nothing', async () => {
    const paths = await commandPaths(main as CommandDef)
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['call', 'keys new', 'lineage verify']),
    )
    const dir = await emptyDir()
    for (const path of paths) {
      const { code, stdout, stderr } = await cli([...path, '--help'], dir)
      expect([path.join(' '), code, stderr]).toEqual([path.join(' '), 0, ''])
      expect(stdout, path.join(' ')).toContain('USAGE')
      // Not a terminal: no colour escapes.
      expect(stdout, path.join(' ')).not.toContain('\u001b[')
    }
    expect(await readdir(dir)).toEqual([])
  }, 120_000)

  it('error: an unknown flag exits 2 naming the nearest one, and nothing runs (no ledger, no data dir)', async () => {
    const dir = await emptyDir()
    const r = await cli(['call', 'acme.com/x', '--idempotency_key', 'k1'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'error E_USAGE: Unknown flag --idempotency_key for fmesh call; did you mean --idempotency-key?\n' +
        '  Run `fmesh call --help` for its flags.\n',
    )
    const json = await cli(['call', 'acme.com/x', '--timeot', '5', '--json'], dir)
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stderr).error).toMatchObject({
      code: 'E_USAGE',
      details: { command: 'fmesh call', flag: '--timeot' },
    })
    expect(await readdir(dir)).toEqual([])
  })

  it('error: a stray argument, a flag without its value and an unknown command each exit 2 with one line and a hint', async () => {
    const dir = await emptyDir()
    const stray = await cli(['ls', 'acme.com/**', 'extra'], dir)
    expect([stray.code, stray.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: Unexpected argument extra for fmesh ls: it takes PATTERN',
    ])
    const noValue = await cli(['call', 'acme.com/x', '--timeout'], dir)
    expect([noValue.code, noValue.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: --timeout needs a value',
    ])
    const unknown = await cli(['keys', 'nwe'], dir)
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: Unknown command keys nwe; did you mean keys new?',
    ])
    // `--no-json` negates a boolean flag rather than being unknown; `--` ends the flags.
    expect((await cli(['keys', 'new', '--no-json', '--out', join(dir, 'k.jwk')], dir)).code).toBe(0)
    expect(await readdir(dir)).toEqual(['k.jwk'])
  })

  it('a closed pipe ends the command quietly (no EPIPE stack)', async () => {
    const dir = await emptyDir()
    const child = spawn(process.execPath, ['--import', tsx, entry, '--help'], { cwd: dir })
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })

  it('Ctrl-C during a call to a hanging provider exits 130, says the call was cancelled, and charges nothing', async () => {
    const provider = await startHttpProvider()
    try {
      const dir = await emptyDir()
      const key = join(dir, 'me.jwk')
      const { id } = JSON.parse((await cli(['keys', 'new', '--out', key, '--json'], dir)).stdout) as {
        id: string
      }
      const config = join(dir, 'fmesh.json')
      await writeFile(config, JSON.stringify({ trust: { owners: { 'acme.com': [id] } } }))
      const draft = join(dir, 'hang.json')
      await writeFile(
        draft,
        JSON.stringify({
          name: 'acme.com/slow/hang',
          versions: {
            '1.0.0': {
              descriptor: {
                maxRisk: 'read-only',
                idempotency: 'idempotent',
                inputSchema: { type: 'object' },
              },
              providers: [
                { id: 'h1', endpoint: provider.url('/hang'), cost: { unit: 'USDC', baseUnits: '5' } },
              ],
            },
          },
        }),
      )
      expect((await cli(['publish', draft, '--key', key, '--config', config], dir)).code).toBe(0)
      const child = spawn(
        process.execPath,
        ['--import', tsx, entry, 'call', 'acme.com/slow/hang', '--config', config, '--json'],
        { cwd: dir },
      )
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString()
      })
      await provider.next('/hang')
      child.kill('SIGINT')
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      expect(code).toBe(130)
      const error = JSON.parse(stderr.slice(stderr.indexOf('{'))).error
      expect(error).toMatchObject({ code: 'E_INTERRUPTED', details: { name: 'acme.com/slow/hang' } })
      const usage = JSON.parse(
        (await cli(['usage', '--by', 'provider', '--config', config, '--json'], dir)).stdout,
      )
      expect(usage.rows).toEqual([])
      const verified = JSON.parse(
        (await cli(['lineage', 'verify', '--config', config, '--json'], dir)).stdout,
      )
      expect(verified).toMatchObject({ ok: true, completed: 0, charges: 0 })
    } finally {
      await provider.close()
    }
  })
})
