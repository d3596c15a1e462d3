import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { CommandDef, Resolvable } from 'citty'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/_commands.js'
import { CLI_TEST_TIMEOUT_MS, cleanEnv, runCli } from './_helpers/cli.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

const root = new URL('..', import.meta.url).pathname
const entry = join(root, 'src/cli/main.ts')
const tsx = join(root, 'node_modules/tsx/dist/esm/index.mjs')
const run = promisify(execFile)

/** Runs `fmesh` in `cwd` with no data dir configured, so anything it creates lands in `cwd`. */
const cli = (args: string[], cwd: string) => runCli(args, { cwd, env: cleanEnv() })

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

/**
 * A data dir with a config pinning a fresh key for acme.com, and `acme.com/slow/hang` published with
 * one provider at `endpoint` (a `/hang` route that never answers).
 */
async function publishHanging(endpoint: string): Promise<{ dir: string; config: string }> {
  const dir = await emptyDir()
  const key = join(dir, 'me.jwk')
  const { id } = JSON.parse((await cli(['keys', 'new', '--out', key, '--json'], dir)).stdout) as {
    id: string
  }
  const config = join(dir, 'fmesh.json')
  await writeFile(config, JSON.stringify({ trust: { owners: { 'acme.com': [id] } } }))
  await writeFile(
    join(dir, 'hang.json'),
    JSON.stringify({
      name: 'acme.com/slow/hang',
      versions: {
        '1.0.0': {
          descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', inputSchema: { type: 'object' } },
          providers: [{ id: 'h1', endpoint, cost: { unit: 'USDC', baseUnits: '5' } }],
        },
      },
    }),
  )
  const published = await cli(['publish', 'hang.json', '--key', key], dir)
  if (published.code !== 0) throw new Error(`publish failed: ${published.stderr}`)
  return { dir, config }
}

describe('fmesh usage', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
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

  it("completion bash prints a script that completes commands, subcommands and each command's flags", async () => {
    const dir = await emptyDir()
    const { code, stdout } = await cli(['completion', 'bash'], dir)
    expect(code).toBe(0)
    await writeFile(join(dir, 'fmesh.bash'), stdout)
    const probe = [
      `source ${join(dir, 'fmesh.bash')}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, not a template
      't() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _fmesh; echo "${COMPREPLY[*]}"; }',
      't fmesh ke',
      't fmesh keys ""',
      't fmesh call acme.com/x --idem',
      't fmesh lineage ""',
    ].join('\n')
    const { stdout: lines } = await run('bash', ['-c', probe], { cwd: dir })
    expect(lines.split('\n').slice(0, 4)).toEqual([
      'keys',
      'new list export-public --help',
      '--idempotency-key',
      'show proof verify key --help',
    ])
    const zsh = await cli(['completion', 'fish'], dir)
    expect([zsh.code, zsh.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: fmesh completion knows bash and zsh, not fish',
    ])
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

  it('commands on one data dir at once: readers answer while a call holds the ledger, a second writer queues', async () => {
    const provider = await startHttpProvider()
    const children: ReturnType<typeof spawn>[] = []
    try {
      const { dir } = await publishHanging(provider.url('/hang'))
      const ledgerPath = join(dir, '.fmesh', 'ledger.sqlite')
      // A deadline far beyond the test: the call hangs (holding the ledger) until it is interrupted.
      const call = spawn(
        process.execPath,
        ['--import', tsx, entry, 'call', 'acme.com/slow/hang', '--timeout', '3600000', '--json'],
        { cwd: dir },
      )
      children.push(call)
      const callEnded = new Promise<number | null>((resolve) => call.on('close', resolve))
      await provider.next('/hang')
      // The call writes the ledger and hangs on its provider: every read-only command answers now,
      // beside it, with no wait and no message (the call never ends until it is interrupted).
      const calls = await cli(['calls', '--json'], dir)
      expect([calls.code, calls.stderr]).toEqual([0, ''])
      const running = (JSON.parse(calls.stdout) as { calls: { invocation: string; outcome: string }[] }).calls
      expect(running).toMatchObject([{ outcome: 'in-flight' }])
      const usage = await cli(['usage'], dir)
      expect([usage.code, usage.stderr, usage.stdout]).toEqual([0, '', '0 rows\n'])
      const shown = await cli(['lineage', 'show', running[0]!.invocation, '--json'], dir)
      expect([shown.code, shown.stderr]).toEqual([0, ''])
      expect(JSON.parse(shown.stdout).entries.map((e: { entry: { type: string } }) => e.entry.type)).toEqual([
        'FUNCTION_INVOKED',
      ])
      const verified = await cli(['lineage', 'verify', '--json'], dir)
      expect([verified.code, verified.stderr]).toEqual([0, ''])
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 1 })
      // A second writer queues behind the call (and says so); once the call ends, it proceeds.
      const grant = spawn(
        process.execPath,
        ['--import', tsx, entry, 'lease', 'grant', '--capabilities', 'acme.com/**', '--budget', 'USDC=100'],
        { cwd: dir },
      )
      children.push(grant)
      let grantErr = ''
      let grantOut = ''
      grant.stdout.on('data', (c: Buffer) => {
        grantOut += c.toString()
      })
      const waiting = new Promise<void>((resolve) =>
        grant.stderr.on('data', (c: Buffer) => {
          grantErr += c.toString()
          if (grantErr.includes('waiting for the ledger')) resolve()
        }),
      )
      const grantEnded = new Promise<number | null>((resolve) => grant.on('close', resolve))
      await waiting
      call.kill('SIGINT')
      expect(await callEnded).toBe(130)
      expect(await grantEnded).toBe(0)
      expect(grantErr).toBe(
        `waiting for the ledger ${ledgerPath}: another fmesh command or node is using it\n`,
      )
      expect(grantOut).toMatch(/^lease /)
      const after = JSON.parse((await cli(['lineage', 'verify', '--json'], dir)).stdout)
      expect(after).toMatchObject({ ok: true, entries: 2, completed: 0, charges: 0 })
    } finally {
      // A failed assertion must not leave the hanging call behind.
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await provider.close()
    }
  }, 120_000)

  it('Ctrl-C during a call to a hanging provider exits 130, says the call was cancelled, and charges nothing', async () => {
    const provider = await startHttpProvider()
    try {
      const { dir, config } = await publishHanging(provider.url('/hang'))
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

describe('fmesh init, config discovery and read-only commands', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('init writes a commented fmesh.json, its data dir and a pinned key; commands then find it without --config', async () => {
    const dir = await emptyDir()
    const init = await cli(['init', '--namespace', 'acme.com', '--json'], dir)
    expect(init.code).toBe(0)
    const made = JSON.parse(init.stdout) as { config: string; key: { id: string; file: string } }
    expect(made.config).toBe(join(dir, 'fmesh.json'))
    expect((await readdir(dir)).sort()).toEqual(['.fmesh', 'acme.com.jwk', 'fmesh.json'])
    expect(await readdir(join(dir, '.fmesh'))).toContain('registry.git')
    const text = await readFile(join(dir, 'fmesh.json'), 'utf8')
    expect(text).toContain('// Who may publish for a namespace')
    expect(text).toContain(made.key.id)
    expect((await stat(made.key.file)).mode & 0o777).toBe(0o600)
    // A draft from the template lints, publishes and resolves with the config found in ./fmesh.json.
    expect((await cli(['record', 'new', 'acme.com/text/upper', '--out', 'draft.json'], dir)).code).toBe(0)
    expect((await cli(['record', 'lint', 'draft.json'], dir)).stdout).toBe(
      'ok: acme.com/text/upper, versions 1.0.0\n',
    )
    expect((await cli(['publish', 'draft.json', '--key', made.key.file], dir)).code).toBe(0)
    const resolved = JSON.parse((await cli(['resolve', 'acme.com/text/upper', '--json'], dir)).stdout)
    expect(resolved).toMatchObject({ version: '1.0.0', verified: { keyId: made.key.id } })
    // A second init refuses to replace the config.
    const again = await cli(['init'], dir)
    expect([again.code, again.stderr.split('\n')[0]]).toEqual([
      2,
      `error E_USAGE: ${made.config} already exists`,
    ])
  })

  it('FMESH_CONFIG names the config when --config is absent; a missing file is an error naming it', async () => {
    const dir = await emptyDir()
    const other = await emptyDir()
    expect((await cli(['init'], dir)).code).toBe(0)
    const env = { ...process.env, FMESH_CONFIG: join(dir, 'fmesh.json') }
    const viaEnv = await run(process.execPath, ['--import', tsx, entry, 'ls', '--json'], { cwd: other, env })
    expect(JSON.parse(viaEnv.stdout)).toEqual({ names: [] })
    const missing = await run(process.execPath, ['--import', tsx, entry, 'ls', '--json'], {
      cwd: other,
      env: { ...env, FMESH_CONFIG: join(other, 'nope.json') },
    }).catch((e: { stderr: string; code: number }) => e)
    expect((missing as { code: number }).code).toBe(2)
    expect(JSON.parse((missing as { stderr: string }).stderr).error).toMatchObject({
      code: 'E_CONFIG_READ',
      details: { file: join(other, 'nope.json') },
    })
    expect(await readdir(other)).toEqual([])
  })

  it('error: read commands never create state: a misspelt registry dir is an error, not a new empty registry', async () => {
    const dir = await emptyDir()
    await writeFile(
      join(dir, 'fmesh.json'),
      '{ "registries": [{ "type": "git", "dir": "regsitry.git" }] // typo\n}',
    )
    const r = await cli(['resolve', 'acme.com/x'], dir)
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([
      3,
      `error E_REGISTRY_MISSING: No Git registry at ${join(dir, 'regsitry.git')} (registry git)`,
    ])
    expect(r.stderr).toContain("Fix the registry's dir in the config")
    expect((await cli(['usage'], dir)).stdout).toBe('0 rows (no ledger yet)\n')
    const lineage = await cli(['lineage', 'verify'], dir)
    expect([lineage.code, lineage.stderr.split(':')[0]]).toEqual([3, 'error E_LEDGER_MISSING'])
    expect(await readdir(dir)).toEqual(['fmesh.json'])
  })

  it('error: a config that is not JSON names the line and column; a bad record draft names its field and place', async () => {
    const dir = await emptyDir()
    await writeFile(join(dir, 'fmesh.json'), '{\n  "dataDir": ".fmesh",\n  "registries": [}\n')
    const bad = await cli(['ls', '--json'], dir)
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stderr).error.details.path).toBe(`${join(dir, 'fmesh.json')}:3:18`)
    expect((await cli(['record', 'new', 'acme.com/x/y', '--out', 'd.json'], dir)).code).toBe(0)
    const draft = (await readFile(join(dir, 'd.json'), 'utf8')).replace('"read-only"', '"readonly"')
    await writeFile(join(dir, 'd.json'), draft)
    const lint = await cli(['record', 'lint', 'd.json', '--json'], dir)
    expect(lint.code).toBe(2)
    expect(JSON.parse(lint.stderr).error).toMatchObject({
      code: 'E_RECORD_SCHEMA',
      details: { field: 'versions["1.0.0"].descriptor.maxRisk', line: 30, column: 20 },
    })
  })
})
