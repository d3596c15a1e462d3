import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importSigner } from '../src/trust/signer.js'
import { CLI_TEST_TIMEOUT_MS, runCli } from './_helpers/cli.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

const cli = (args: string[]) => runCli(args)

describe('fmesh CLI', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('keys new --out writes a private JWK that loads, with mode 0600, and refuses to overwrite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-keys-'))
    dirs.push(dir)
    const file = join(dir, 'publisher.jwk')
    const { stdout, code } = await cli(['keys', 'new', '--out', file, '--json'])
    expect(code).toBe(0)
    const { id } = JSON.parse(stdout) as { id: string }
    expect((await importSigner(JSON.parse(await readFile(file, 'utf8')))).id).toBe(id)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const again = await cli(['keys', 'new', '--out', file, '--json'])
    expect(again.code).toBe(1)
    expect(JSON.parse(again.stderr)).toMatchObject({
      error: { code: 'E_FILE_WRITE', details: { path: file } },
    })
  })

  it('a publisher makes a key, publishes a record draft to the embedded Git registry, and resolves it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-pub-'))
    dirs.push(dir)
    const key = join(dir, 'me.jwk')
    const { id } = JSON.parse((await cli(['keys', 'new', '--out', key, '--json'])).stdout) as { id: string }
    const config = join(dir, 'fmesh.json')
    await writeFile(config, JSON.stringify({ trust: { owners: { 'acme.com': [id] } } }))
    const draft = join(dir, 'sharpen.json')
    const descriptor = { maxRisk: 'read-only', idempotency: 'idempotent' }
    await writeFile(
      draft,
      JSON.stringify({
        name: 'acme.com/image/sharpen',
        versions: {
          '1.2.0': { descriptor, providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }] },
          '1.3.0': { descriptor, providers: [{ id: 'p2', endpoint: 'https://p2.example/sharpen' }] },
        },
      }),
    )
    const published = await cli(['publish', draft, '--key', key, '--config', config, '--json'])
    expect(published.code).toBe(0)
    expect(JSON.parse(published.stdout)).toMatchObject({
      name: 'acme.com/image/sharpen',
      seq: 1,
      receipts: [{ registry: 'git' }],
    })
    const resolved = await cli(['resolve', 'acme.com/image/sharpen@~1.2', '--config', config, '--json'])
    expect(JSON.parse(resolved.stdout)).toMatchObject({
      version: '1.2.0',
      source: { kind: 'registry', registry: 'git' },
      verified: { method: 'signature', keyId: id, seq: 1 },
    })
    const listed = await cli(['ls', 'acme.com/**', '--config', config, '--json'])
    expect(JSON.parse(listed.stdout)).toEqual({
      names: [{ name: 'acme.com/image/sharpen', registries: ['git'] }],
    })
    // A second publish of the same draft gets the next seq from the repository.
    expect(
      JSON.parse((await cli(['publish', draft, '--key', key, '--config', config, '--json'])).stdout).seq,
    ).toBe(2)
  })

  it('calls a published HTTP provider, then shows usage and verifies the lineage, pinned to the key `lineage key` prints', async () => {
    const provider = await startHttpProvider()
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-call-'))
    dirs.push(dir)
    try {
      const key = join(dir, 'me.jwk')
      const { id } = JSON.parse((await cli(['keys', 'new', '--out', key, '--json'])).stdout) as { id: string }
      const config = join(dir, 'fmesh.json')
      await writeFile(config, JSON.stringify({ trust: { owners: { 'acme.com': [id] } } }))
      const draft = join(dir, 'sharpen.json')
      await writeFile(
        draft,
        JSON.stringify({
          name: 'acme.com/image/sharpen',
          versions: {
            '1.0.0': {
              descriptor: {
                maxRisk: 'read-only',
                idempotency: 'idempotent',
                inputSchema: { type: 'object', required: ['image'] },
              },
              providers: [
                { id: 'p1', endpoint: provider.url('/ok'), cost: { unit: 'USDC', baseUnits: '2500' } },
              ],
            },
          },
        }),
      )
      expect((await cli(['publish', draft, '--key', key, '--config', config])).code).toBe(0)
      const called = await cli([
        'call',
        'acme.com/image/sharpen@^1',
        '--input',
        '{"image":"cat"}',
        '--config',
        config,
        '--json',
      ])
      expect(called.code).toBe(0)
      expect(JSON.parse(called.stdout)).toMatchObject({
        output: { image: 'cat!' },
        provider: { id: 'p1' },
        attempts: 1,
      })
      const refused = await cli([
        'call',
        'acme.com/image/sharpen',
        '--input',
        '{"picture":1}',
        '--config',
        config,
        '--json',
      ])
      expect(refused.code).toBe(2)
      expect(JSON.parse(refused.stderr).error.code).toBe('E_INPUT_INVALID')
      const usage = JSON.parse(
        (await cli(['usage', '--by', 'provider', '--config', config, '--json'])).stdout,
      )
      expect(usage.rows).toEqual([{ key: 'p1', currency: 'USDC', amount: '2500', calls: 1 }])
      const verified = JSON.parse((await cli(['lineage', 'verify', '--config', config, '--json'])).stdout)
      expect(verified).toMatchObject({ ok: true, completed: 1, charges: 1, pinned: false })
      const { keyId } = JSON.parse((await cli(['lineage', 'key', '--config', config, '--json'])).stdout)
      expect(verified).toMatchObject({ keyId, keys: [keyId] })
      const verify = (key: string) => cli(['lineage', 'verify', '--key', key, '--config', config, '--json'])
      expect(JSON.parse((await verify(keyId)).stdout)).toMatchObject({ ok: true, keyId, pinned: true })
      const otherKey = await verify(id)
      expect(otherKey.code).toBe(1)
      expect(JSON.parse(otherKey.stderr).error.message).toContain(`not by the pinned key ${id}`)
      const notAKey = await verify('did:key:nope')
      expect(notAKey.code).toBe(2)
      expect(JSON.parse(notAKey.stderr).error).toMatchObject({ code: 'E_USAGE' })
      expect(provider.executions('/ok')).toBe(1)
    } finally {
      await provider.close()
    }
  })

  it('error: a config with an unknown field, a missing key file, and an unowned namespace each say what is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-bad-'))
    dirs.push(dir)
    const config = join(dir, 'fmesh.json')
    await writeFile(config, JSON.stringify({ registries: [{ type: 'git', dri: 'x' }] }))
    const bad = await cli(['resolve', 'acme.com/x', '--config', config, '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stderr).error.code).toBe('E_CONFIG_INVALID')
    const noKey = await cli(['publish', join(dir, 'nope.json'), '--key', join(dir, 'nope.jwk'), '--json'])
    expect(JSON.parse(noKey.stderr).error).toMatchObject({ code: 'E_FILE_READ' })
    await writeFile(config, JSON.stringify({}))
    const key = join(dir, 'me.jwk')
    await cli(['keys', 'new', '--out', key])
    const draft = join(dir, 'd.json')
    await writeFile(draft, JSON.stringify({ name: 'acme.com/x', versions: {} }))
    const unowned = await cli(['publish', draft, '--key', key, '--config', config, '--json'])
    expect(JSON.parse(unowned.stderr).error.code).toBe('E_NAMESPACE_UNOWNED')
  })

  it('--help after a command shows its usage and never runs it (keys new --help makes no key)', async () => {
    const { code, stdout } = await cli(['keys', 'new', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('--out')
    expect(stdout).not.toContain('"kty"')
    expect((await cli(['publish', 'draft.json', '--help'])).stdout).toContain('--key')
  })

  it('error: an unknown command exits 2 with a message, not a stack', async () => {
    const { code, stderr } = await cli(['nope'])
    expect(code).toBe(2)
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(stderr.length).toBeGreaterThan(0)
  })
})
