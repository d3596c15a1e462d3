import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TEST_TIMEOUT_MS, cleanEnv, runCli, startCliNode } from './_helpers/cli.js'

// A publisher runs `fmesh node start` with a networked IPFS registry and publishes through it; a
// reader on another data dir, sharing no files with it, follows the IPNS name `fmesh node status`
// prints and dials the address it prints, and a one-shot `fmesh resolve` finds the record over the
// network (IPNS over the private DHT, the blocks over bitswap) and verifies it.

const name = 'acme.com/image/sharpen'

let tmp: string
let node: ChildProcess | undefined

/** Runs `fmesh ARGS --json` in `cwd`, failing with its stderr when it did not exit 0. */
async function ok<T = Record<string, unknown>>(cwd: string, args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], { cwd, env: cleanEnv() })
  expect([args.join(' '), r.code, r.code === 0 ? '' : r.stderr]).toEqual([args.join(' '), 0, ''])
  return JSON.parse(r.stdout) as T
}

const draft = {
  name,
  latestVersion: '1.2.0',
  versions: {
    '1.2.0': {
      descriptor: { maxRisk: 'read-only', idempotency: 'idempotent', inputSchema: { type: 'object' } },
      providers: [{ id: 'p1', endpoint: 'https://p1.example/sharpen' }],
    },
  },
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fmesh-follow-'))
}, 60_000)
afterAll(async () => {
  if (node?.exitCode === null && node.signalCode === null) node.kill('SIGKILL')
  await rm(tmp, { recursive: true, force: true })
})

describe('a reader follows a publisher IPNS name with the CLI', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('resolves and verifies a record from a running publisher node over the network, from another data dir, and serves its kept copy once the publisher stops', async () => {
    // A: a publisher key, a config with one networked IPFS registry on 127.0.0.1, a running node.
    const a = join(tmp, 'a')
    await mkdir(a)
    const keyId = (await ok<{ id: string }>(a, ['keys', 'new', '--out', 'acme.com.jwk'])).id
    const trust = { owners: { 'acme.com': [keyId] } }
    await writeFile(
      join(a, 'fmesh.json'),
      JSON.stringify({
        dataDir: '.fmesh',
        registries: [{ type: 'ipfs', id: 'ipfs', network: { listen: ['/ip4/127.0.0.1/tcp/0'] } }],
        trust,
      }),
    )
    await writeFile(join(a, 'sharpen.json'), JSON.stringify(draft))
    const started = startCliNode(a)
    node = started.child
    await started.started

    // The publish goes through the node; its receipt names the IPNS name the root is under.
    const published = await ok<{ via: string; receipts: Record<string, string>[] }>(a, [
      'publish',
      'sharpen.json',
      '--key',
      'acme.com.jwk',
    ])
    expect(published.via).toMatch(/^node 12D3KooW/)
    // (The node's peer registry stores it too, with a receipt of its own.)
    const receipt = published.receipts.find((r) => r.registry === 'ipfs')
    expect(receipt).toEqual({
      registry: 'ipfs',
      location: expect.stringMatching(/^ipfs:\/ipfs\/bafk/),
      ipnsName: expect.stringMatching(/^\/ipns\/k51/),
      ipnsSequence: expect.stringMatching(/^[1-9]\d*$/),
    })
    const ipnsName = receipt!.ipnsName!
    // Published again (the next seq), the text names the root's new IPNS sequence for people.
    const again = await runCli(['publish', 'sharpen.json', '--key', 'acme.com.jwk'], {
      cwd: a,
      env: cleanEnv(),
    })
    expect(again.stdout).toMatch(
      new RegExp(
        `\\n  stored  ipfs at ipfs:/ipfs/bafk\\w+\\n          root under ${ipnsName} \\(IPNS seq ${BigInt(receipt!.ipnsSequence!) + 1n}\\): readers follow this name\\n`,
      ),
    )

    // `node status` shows the same name and the registry node's own addresses, to dial.
    const status = await ok<{ registries: { id: string; ipnsName?: string; addrs?: string[] }[] }>(a, [
      'node',
      'status',
    ])
    const ipfs = status.registries.find((r) => r.id === 'ipfs')
    expect(ipfs).toMatchObject({ status: 'ok', records: 1, ipnsName })
    expect(ipfs!.addrs![0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/)
    const text = await runCli(['node', 'status'], { cwd: a, env: cleanEnv() })
    expect(text.stdout).toContain(`    ipns     ${ipnsName}\n    dial     ${ipfs!.addrs![0]}\n`)

    // B: another data dir, no store yet, following A's name and dialling A's address.
    const b = join(tmp, 'b')
    await mkdir(b)
    await writeFile(
      join(b, 'fmesh.json'),
      JSON.stringify({
        dataDir: '.fmesh',
        registries: [
          { type: 'ipfs', id: 'ipfs', network: { bootstrap: [ipfs!.addrs![0]] }, follow: [ipnsName] },
        ],
        trust,
      }),
    )
    const found = await ok<Record<string, unknown>>(b, ['resolve', `${name}@^1.2`])
    expect(found).toMatchObject({
      name,
      version: '1.2.0',
      source: { kind: 'registry', registry: 'ipfs', location: expect.stringMatching(/^ipfs:\/ipfs\/bafk/) },
      verified: { method: 'signature', keyId, namespace: 'acme.com', seq: 2 },
      report: [{ registry: 'ipfs', status: 'found', seq: 2 }],
    })

    // With the publisher gone, B's next command serves the copy it fetched and pinned in its store.
    node.kill('SIGTERM')
    await new Promise((resolve) => node!.once('close', resolve))
    const kept = await ok<Record<string, unknown>>(b, ['resolve', `${name}@^1.2`])
    expect(kept).toMatchObject({
      version: '1.2.0',
      source: { registry: 'ipfs' },
      verified: { keyId, seq: 2 },
    })
  })

  it('error: a follow entry that is not an IPNS name is E_CONFIG_INVALID naming the field', async () => {
    const c = join(tmp, 'c')
    await mkdir(c)
    await writeFile(
      join(c, 'fmesh.json'),
      JSON.stringify({ registries: [{ type: 'ipfs', network: {}, follow: ['/ipfs/bafybeigdyr'] }] }),
    )
    const r = await runCli(['resolve', name, '--json'], { cwd: c, env: cleanEnv() })
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stderr).error).toMatchObject({
      code: 'E_CONFIG_INVALID',
      message: expect.stringContaining('registries[0].follow[0]'),
    })
  })
})
