import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoResult } from '../src/cli/demo.js'
import { cleanEnv, runCli } from './_helpers/cli.js'

let dir: string

// The real binary, spawned, with a TMPDIR of the test's own so a run's temporary dirs can be counted.
const cli = (args: string[], tmp = join(dir, 'tmp')) =>
  runCli(args, {
    cwd: dir,
    env: cleanEnv({ TMPDIR: tmp }),
    maxBuffer: 16 * 1024 * 1024,
    killAfterMs: 110_000,
  })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmesh-demo-test-'))
  await mkdir(join(dir, 'tmp'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Every claim the demo makes, checked from its --json output. */
function expectWholeMesh(r: DemoResult): void {
  expect(r.registries).toEqual(['git', 'ipfs', 'chain', 'mirror'])
  // Namespaces claimed on the local chain, the publisher key added there, and no key pinned.
  expect(r.claims.map((c) => [c.namespace, c.keys.length])).toEqual([
    ['acme.com', 1],
    ['image-processing', 1],
  ])
  for (const p of [...r.published, ...r.callRecords]) expect(p.to).toEqual(['git', 'ipfs', 'chain'])
  const sharpen = r.steps.find((s) => s.query === 'acme.com/image/sharpen@^1.2')!
  expect(sharpen.verified).toMatch(/\(keys from chain:31337\/0x[0-9a-fA-F]{40}\), seq 2$/)
  expect(sharpen.report).toEqual([
    'git: found seq 2',
    'ipfs: found seq 2',
    'chain: found seq 2',
    'mirror: outdated E_SEQ_ROLLBACK',
  ])
  // The forged and the rolled-back records, each refused with its code.
  expect(r.refusals.map((x) => [x.name, x.registry, x.status, x.code])).toEqual([
    ['acme.com/image/sharpen', 'mirror', 'outdated', 'E_SEQ_ROLLBACK'],
    ['acme.com/image/blur', 'mirror', 'invalid', 'E_SIGNER_NOT_OWNER'],
  ])
  const byQuery = (q: string) => r.steps.filter((s) => s.query === q)
  expect(byQuery('acme.com/image/sharpen@^1.2').map((s) => [s.version, s.source?.split(' ')[0]])).toEqual([
    ['1.4.1', 'registry'],
    ['1.4.1', 'cache'],
  ])
  expect(byQuery('acme.com/image/sharpen@~1.0')[0]?.error?.code).toBe('E_NO_MATCHING_VERSION')
  expect(byQuery('acme.com/image/sharpen@1.0.0')[0]?.version).toBe('1.0.0')
  expect(byQuery('acme.com/image/blur@>=0.9 <2')[0]?.version).toBe('1.0.0')
  expect(byQuery('acme.com/text/upper@^1')[0]?.source).toBe('marketplace (in-process)')
  expect(byQuery('acme.com/image/missing')[0]?.error?.code).toBe('E_FUNCTION_NOT_FOUND')

  const action = (what: string) => r.actions.find((a) => a.what === what)!
  // Deterministic strategies; load-balance and highest-availability draw among equals at random.
  expect(action('select reverse, lowest-cost').provider).toBe('cheap')
  expect(action('select reverse, fastest').provider).toBe('fast')
  expect(action('select reverse, weighted').provider).toBe('tools')
  for (const s of ['highest-availability', 'load-balance'])
    expect(['fast', 'cheap', 'tools']).toContain(action(`select reverse, ${s}`).provider)
  expect(action('select reverse, agent may use only "fast"').provider).toBe('fast')
  expect(action('select reverse, pure context').error?.code).toBe('E_NO_ALLOWED_PROVIDER')
  expect(action('call upper (in-process)')).toMatchObject({
    provider: 'local',
    output: { text: 'HELLO MESH' },
    charge: { amount: '0', currency: null },
  })
  const first = action('call reverse over HTTP, key demo-1 (#1)')
  const again = action('call reverse over HTTP, key demo-1 (#2)')
  expect(first).toMatchObject({
    provider: 'cheap',
    output: { text: 'hsem-noitcnuf' },
    charge: { amount: '1000' },
  })
  // The same key replays the stored result: the same invocation, no second charge.
  expect(again).toMatchObject({ invocation: first.invocation, charge: { amount: '0' } })
  expect(again.detail).toMatch(/^replayed/)
  expect(action('call words over MCP')).toMatchObject({
    provider: 'tools',
    output: { words: 4 },
    charge: { amount: '500', currency: 'USDC' },
  })
  expect(action('call reverse with input the schema refuses').error?.code).toBe('E_INPUT_INVALID')
  // cheap falls over mid-run: the call fails over to the next cheapest, and its lineage shows both attempts.
  expect(action('call reverse, lowest-cost, cheap is down')).toMatchObject({
    provider: 'tools',
    output: { text: 'revoliaf' },
    attempts: 2,
    charge: { amount: '2000', currency: 'USDC' },
  })
  expect(r.failover.trail).toEqual([
    'FUNCTION_INVOKED cheap #1',
    'FUNCTION_FAILED cheap #1',
    'FUNCTION_INVOKED tools #2',
    'FUNCTION_COMPLETED tools #2',
  ])
  // The charges add up: each call's own charge, summed, is what the ledger's usage says.
  expect(r.charges).toEqual([
    { currency: null, fromCalls: '0', fromUsage: '0' },
    { currency: 'USDC', fromCalls: '3500', fromUsage: '3500' },
  ])
  expect(r.lineage).toEqual({ ok: true, entries: 10, completed: 4, charges: 4 })

  expect(r.peers.nodes).toHaveLength(3)
  expect(r.peers.call).toMatchObject({ output: { text: 'OVER LIBP2P!' }, provider: 'node-2' })
  expect(r.peers.call.hostInvocation).toMatch(/^inv_/)
  expect(r.peers.call.hostInvocation).not.toBe(r.peers.call.callerInvocation)
  // The yank reached every peer; the two that do not host the function answer ^1 with 1.0.0.
  expect(r.peers.yankReached).toEqual([true, true, true])
  expect(r.peers.afterYankByNode).toEqual(['1.0.0', '1.0.0'])

  const { durationMs, peers, strategies, ...summary } = r.summary
  expect(durationMs).toBeGreaterThan(0)
  expect(Object.keys(strategies)).toEqual([
    'lowest-cost',
    'fastest',
    'highest-availability',
    'load-balance',
    'weighted',
  ])
  expect({ ...peers, propagationMs: undefined }).toEqual({
    nodes: 3,
    propagationMs: undefined,
    libp2pCall: true,
    yankReachedEveryPeer: true,
  })
  expect(summary).toEqual({
    registries: ['git', 'ipfs', 'chain', 'mirror'],
    claimed: ['acme.com', 'image-processing'],
    published: { records: 6, registries: ['git', 'ipfs', 'chain'] },
    forgedRefused: 'E_SIGNER_NOT_OWNER',
    rollbackRefused: 'E_SEQ_ROLLBACK',
    resolved: { ok: 8, of: 10 },
    calls: { completed: 6, refused: 1, transports: ['local', 'http', 'mcp', 'libp2p'] },
    failover: { from: 'cheap', to: 'tools', attempts: 2 },
    charges: [
      { currency: null, amount: '0' },
      { currency: 'USDC', amount: '3500' },
    ],
    chargesAddUp: true,
    lineageVerified: true,
  })
}

describe('fmesh demo', () => {
  it('runs the whole mesh on a fresh temporary dir, and leaves nothing behind', {
    timeout: 180_000,
  }, async () => {
    const tmp = join(dir, 'tmp')
    const r = await cli(['demo', '--json'], tmp)
    expect([r.code, r.stderr]).toEqual([0, ''])
    expectWholeMesh(JSON.parse(r.stdout) as DemoResult)
    // Its registries, ledger and peer nodes lived in temporary dirs it removed (tsx keeps a cache there).
    expect((await readdir(tmp)).filter((name) => name.startsWith('fmesh-'))).toEqual([])
  })

  it('runs twice in a row in the same --dir (cleared between runs), and never clears a directory it did not make', {
    timeout: 240_000,
  }, async () => {
    const demoDir = join(dir, 'demo')
    const json = await cli(['demo', '--dir', demoDir, '--json'])
    expect([json.code, json.stderr]).toEqual([0, ''])
    expectWholeMesh(JSON.parse(json.stdout) as DemoResult)
    // The second run, as a newcomer sees it: the text output ends in the summary.
    const text = await cli(['demo', '--dir', demoDir])
    expect([text.code, text.stderr]).toEqual([0, ''])
    const summary = text.stdout.slice(text.stdout.indexOf('\nsummary\n') + 1).split('\n')
    expect(summary.slice(0, 13).map((l) => l.slice(0, 15).trim())).toEqual([
      'summary',
      'registries',
      'claimed',
      'published',
      'forged',
      'rolled back',
      'resolved',
      'strategies',
      'calls',
      'failover',
      'billing',
      'lineage',
      'peers',
    ])
    const line = (k: string) => summary.find((l) => l.startsWith(`  ${k.padEnd(12)} `))!.slice(15)
    expect(line('forged')).toBe('refused (E_SIGNER_NOT_OWNER)')
    expect(line('rolled back')).toBe('refused (E_SEQ_ROLLBACK)')
    expect(line('failover')).toBe('cheap fell over, tools answered (2 attempts)')
    expect(line('billing')).toMatch(/^3500 USDC base units charged in all; .* add up: yes$/)
    expect(line('lineage')).toBe('verified: yes')
    expect(line('peers')).toMatch(/call over libp2p: yes, yank reached every peer: yes$/)
    expect(text.stdout).toContain('refused  acme.com/image/blur')

    const mine = join(dir, 'mine')
    await mkdir(mine)
    await writeFile(join(mine, 'notes.txt'), 'keep me')
    const refused = await cli(['demo', '--dir', mine])
    expect([refused.code, refused.stderr.split('\n')[0]]).toEqual([
      2,
      `error E_DEMO_DIR_NOT_EMPTY: ${mine} holds files that no demo run made; the demo will not clear it`,
    ])
    expect(await readFile(join(mine, 'notes.txt'), 'utf8')).toBe('keep me')
  })
})
