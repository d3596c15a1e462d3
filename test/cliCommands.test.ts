import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TEST_TIMEOUT_MS, cleanEnv, runCli } from './_helpers/cli.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

let dir: string
let provider: Awaited<ReturnType<typeof startHttpProvider>>
let key: string
const cli = (args: string[]) => runCli(args, { cwd: dir, env: cleanEnv() })
const json = async (args: string[]) => {
  const r = await cli([...args, '--json'])
  if (r.code !== 0) throw new Error(`fmesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

// One publisher's data dir, set up once: `init`, then a record with two providers and two versions.
beforeAll(async () => {
  provider = await startHttpProvider()
  dir = await mkdtemp(join(tmpdir(), 'fmesh-commands-'))
  key = (await json(['init', '--namespace', 'acme.com'])).key.file
  const version = (baseUnits: string) => ({
    descriptor: {
      maxRisk: 'read-only',
      idempotency: 'idempotent',
      allowedByDefault: true,
      inputSchema: { type: 'object' },
    },
    providers: [
      {
        id: 'cheap',
        endpoint: provider.url('/ok'),
        cost: { unit: 'USDC', baseUnits },
        avgResponseTimeMs: 300,
      },
      {
        id: 'fast',
        endpoint: provider.url('/ok'),
        cost: { unit: 'USDC', baseUnits: '9000' },
        avgResponseTimeMs: 20,
      },
    ],
  })
  await writeFile(
    join(dir, 'draft.json'),
    JSON.stringify({
      name: 'acme.com/image/sharpen',
      latestVersion: '1.1.0',
      versions: { '1.0.0': version('2500'), '1.1.0': version('2000') },
    }),
  )
  await json(['publish', 'draft.json', '--key', key])
})
afterAll(async () => {
  await provider.close()
  await rm(dir, { recursive: true, force: true })
})

describe('fmesh select, lease, yank and deprecate', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('select shows the chosen provider, the candidates and why, under each strategy', async () => {
    const cheapest = await json(['select', 'acme.com/image/sharpen@^1', '--strategy', 'lowest-cost'])
    expect(cheapest).toMatchObject({ version: '1.1.0', provider: { id: 'cheap' }, strategy: 'lowest-cost' })
    expect(cheapest.candidates.map((c: { id: string; cost: unknown }) => [c.id, c.cost])).toEqual([
      ['cheap', { amount: '2000', unit: 'USDC' }],
      ['fast', { amount: '9000', unit: 'USDC' }],
    ])
    expect((await json(['select', 'acme.com/image/sharpen', '--strategy', 'fastest'])).provider.id).toBe(
      'fast',
    )
    const pure = await cli(['select', 'acme.com/image/sharpen', '--context', '{"level":"pure"}'])
    expect([pure.code, pure.stderr.split('\n')[0]]).toEqual([
      4,
      'error E_NO_ALLOWED_PROVIDER: No provider of acme.com/image/sharpen@1.1.0 is allowed: 2 removed by security rules',
    ])
    const badStrategy = await cli(['select', 'acme.com/image/sharpen', '--strategy', 'cheapest'])
    expect(badStrategy.code).toBe(2)
  })

  it('a lease pays for calls within its budget, shows what was spent, and refuses calls once revoked', async () => {
    const lease = await json([
      'lease',
      'grant',
      '--capabilities',
      'acme.com/**',
      '--budget',
      'USDC=5000',
      '--ttl',
      '1h',
      '--id',
      'team-a',
    ])
    expect(lease).toMatchObject({
      id: 'team-a',
      capabilities: ['acme.com/**'],
      balances: { USDC: { budget: '5000', spent: '0' } },
    })
    const call = await json([
      'call',
      'acme.com/image/sharpen@^1',
      '--input',
      '{"image":"x"}',
      '--lease',
      'team-a',
    ])
    expect(call.charge).toMatchObject({ amount: '2000', currency: 'USDC', lease: 'team-a' })
    expect((await json(['lease', 'show', 'team-a'])).balances.USDC).toMatchObject({
      spent: '2000',
      available: '3000',
    })
    await json(['lease', 'revoke', 'team-a'])
    const refused = await cli([
      'call',
      'acme.com/image/sharpen@^1',
      '--input',
      '{"image":"x"}',
      '--lease',
      'team-a',
    ])
    expect([refused.code, refused.stderr.split('\n')[0]]).toEqual([
      4,
      'error E_LEASE_EXPIRED: Lease team-a was revoked',
    ])
    const unknown = await cli(['lease', 'show', 'nope'])
    expect(unknown.code).toBe(3)
    const badBudget = await cli(['lease', 'grant', '--capabilities', 'acme.com/**', '--budget', 'USDC:5'])
    expect([badBudget.code, badBudget.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: --budget USDC:5 is not CURRENCY=AMOUNT',
    ])
  })

  it('yank and deprecate republish the record with the next seq; ranges then skip those versions', async () => {
    const before = await json(['resolve', 'acme.com/image/sharpen'])
    const yanked = await json(['yank', 'acme.com/image/sharpen@1.1.0', '--key', key])
    expect(yanked).toMatchObject({ version: '1.1.0', mark: 'yank', seq: before.verified.seq + 1 })
    expect((await json(['resolve', 'acme.com/image/sharpen@^1'])).version).toBe('1.0.0')
    await json(['deprecate', 'acme.com/image/sharpen@1.0.0', '--key', key, '--message', 'use 2.x'])
    const none = await cli(['resolve', 'acme.com/image/sharpen@^1'])
    expect([none.code, none.stderr.split(':')[0]]).toEqual([3, 'error E_NO_MATCHING_VERSION'])
    // An exact version is still served (deprecated), and --include-deprecated lets a range pick it.
    expect((await json(['resolve', 'acme.com/image/sharpen@1.0.0'])).version).toBe('1.0.0')
    const notExact = await cli(['yank', 'acme.com/image/sharpen@^1', '--key', key])
    expect([notExact.code, notExact.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: acme.com/image/sharpen@^1 does not name one exact version',
    ])
    const noSuch = await cli(['yank', 'acme.com/image/sharpen@3.0.0', '--key', key])
    expect(noSuch.code).toBe(3)
  })
})
