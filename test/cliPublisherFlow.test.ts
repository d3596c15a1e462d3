import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployRegistry } from '../registries/chain/deployRegistry.js'
import { type Chain, startChain } from './_helpers/chain.js'
import { cleanEnv, runCli } from './_helpers/cli.js'
import { type GitHttpServer, startGitHttpServer } from './_helpers/gitHttpServer.js'
import { startHttpProvider } from './_helpers/httpProvider.js'

// A publisher's workflow as a user runs it, every step a spawned `fmesh`, then a reader on a second
// data dir that shares only the registries: the same Git remote (a real `git http-backend` on
// loopback), the same IPFS store (the publisher's Helia blockstore and datastore, opened by the
// reader's own registry; following the publisher's IPNS name over the network instead needs the
// publisher's node running, and test/cliIpnsFollow.test.ts does that), and the same chain RPC (a
// real anvil with the real contract). Neither config pins an owner: trust comes from the chain.

const run = promisify(execFile)
const name = 'acme.com/image/sharpen'

let tmp: string
let chain: Chain
let git: GitHttpServer
let provider: Awaited<ReturnType<typeof startHttpProvider>>

/** Runs `fmesh ARGS --json` in `cwd` with no config or data dir from the environment. */
async function fmesh(cwd: string, args: string[]) {
  const { code, stdout, stderr } = await runCli([...args, '--json'], { cwd, env: cleanEnv() })
  const body =
    code === 0
      ? (JSON.parse(stdout) as Record<string, unknown>)
      : (JSON.parse(stderr) as { error: Record<string, unknown> }).error
  return { code, body }
}

/** Runs `fmesh ARGS --json` and returns its result, failing with its error when it did not exit 0. */
async function ok<T = Record<string, unknown>>(cwd: string, args: string[]): Promise<T> {
  const { code, body } = await fmesh(cwd, args)
  expect([args.join(' '), code, code === 0 ? '' : body]).toEqual([args.join(' '), 0, ''])
  return body as T
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fmesh-flow-'))
  chain = await startChain()
  git = await startGitHttpServer({ root: join(tmp, 'git-server') })
  provider = await startHttpProvider()
}, 60_000)
afterAll(async () => {
  await provider?.close()
  await git?.stop()
  await chain?.stop()
  await rm(tmp, { recursive: true, force: true })
})

describe('a publisher workflow through spawned fmesh processes', () => {
  it('init, claim on chain, record new and lint, publish to git, ipfs and chain; a second data dir with no pinned owner resolves it from all three, calls it, verifies its lineage and bills it', {
    timeout: 180_000,
  }, async () => {
    const a = join(tmp, 'a')
    const b = join(tmp, 'b')
    await mkdir(a)
    await mkdir(b)
    const remote = await git.createRepo('registry.git')
    const { address, blockNumber } = await deployRegistry(chain.wallets[9]!)
    const owner = chain.wallets[0]!.address
    const onChain = { type: 'chain', id: 'chain', rpcUrl: chain.node.rpcUrl, address, fromBlock: blockNumber }

    // 1. init: a config, a data dir and a publisher key (the one this flow publishes with).
    const init = await ok<{ config: string; key: { id: string; file: string } }>(a, [
      'init',
      '--namespace',
      'acme.com',
    ])
    expect(init).toEqual({
      config: join(a, 'fmesh.json'),
      dataDir: join(a, '.fmesh'),
      registries: [`git      git registry in ${join(a, '.fmesh/registry.git')} (local only)`],
      key: { id: init.key.id, file: join(a, 'acme.com.jwk') },
    })
    const keyId = init.key.id

    // 2. The publisher's registries: the Git remote, a local IPFS node, the chain; no trust.owners.
    await writeFile(join(a, 'owner.key'), `${chain.node.accounts[0]!.privateKey}\n`)
    await writeFile(
      join(a, 'fmesh.json'),
      JSON.stringify({
        dataDir: '.fmesh',
        registries: [
          { type: 'git', id: 'git', url: remote },
          { type: 'ipfs', id: 'ipfs', dir: '.fmesh/ipfs' },
          { ...onChain, signerKeyFile: 'owner.key' },
        ],
      }),
    )

    // 3. Own acme.com on the chain and list the publisher key there.
    expect(await ok(a, ['namespace', 'claim', 'acme.com'])).toEqual({
      namespace: 'acme.com',
      owner,
      transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      blockNumber: blockNumber + 1,
    })
    expect(await ok(a, ['namespace', 'keys', 'add', 'acme.com', keyId])).toEqual({
      namespace: 'acme.com',
      key: keyId,
      transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      blockNumber: blockNumber + 2,
    })
    expect(await ok(a, ['namespace', 'show', 'acme.com'])).toEqual({
      namespace: 'acme.com',
      claimed: true,
      owner,
      publishers: [keyId],
    })

    // 4. A draft from the template, pointed at a real HTTP provider, then linted.
    expect(await ok(a, ['record', 'new', name, '--out', 'sharpen.json'])).toEqual({
      name,
      file: 'sharpen.json',
    })
    const draft = JSON.parse(await readFile(join(a, 'sharpen.json'), 'utf8'))
    const image = { type: 'object', required: ['image'], properties: { image: { type: 'string' } } }
    Object.assign(draft.versions['1.0.0'].descriptor, { inputSchema: image, outputSchema: image })
    Object.assign(draft.versions['1.0.0'].providers[0], { id: 'sharpen-1', endpoint: provider.url('/ok') })
    await writeFile(join(a, 'sharpen.json'), JSON.stringify(draft, null, 2))
    expect(await ok(a, ['record', 'lint', 'sharpen.json'])).toEqual({ ok: true, name, versions: ['1.0.0'] })

    // 5. Publish to every registry: a receipt from each, at the place each keeps it.
    const published = await ok<{ id: string }>(a, [
      'publish',
      'sharpen.json',
      '--key',
      'acme.com.jwk',
      '--to',
      'git,ipfs,chain',
    ])
    const head = async () =>
      (await run('git', ['-C', join(tmp, 'git-server/registry.git'), 'rev-parse', 'main'])).stdout.trim()
    const pushed = await head()
    const recordBlock = CID.createV1(raw.code, CID.parse(published.id).multihash).toString()
    const gitLocation = `git:${pushed}:records/${name}.json`
    expect(published).toEqual({
      name,
      id: published.id,
      seq: 1,
      receipts: [
        { registry: 'git', location: gitLocation },
        {
          registry: 'ipfs',
          location: `ipfs:/ipfs/${recordBlock}`,
          ipnsName: expect.stringMatching(/^\/ipns\/k51/),
          ipnsSequence: expect.stringMatching(/^[1-9]\d*$/),
        },
        { registry: 'chain', location: `chain:${chain.node.chainId}/${address}@${blockNumber + 3}` },
      ],
      via: 'local',
    })

    // 6. A second data dir: the same remote, the publisher's IPFS store, the same chain; no owner pinned.
    await writeFile(
      join(b, 'fmesh.json'),
      JSON.stringify({
        dataDir: '.fmesh',
        registries: [
          { type: 'git', id: 'git', url: remote },
          { type: 'ipfs', id: 'ipfs', dir: '../a/.fmesh/ipfs' },
          onChain,
        ],
      }),
    )
    const resolved = await ok(b, ['resolve', `${name}@^1`])
    const found = { status: 'found', seq: 1, recordId: published.id }
    expect(resolved).toMatchObject({
      name,
      version: '1.0.0',
      recordId: published.id,
      source: { kind: 'registry', registry: 'git', location: gitLocation },
      verified: {
        method: 'signature',
        keyId,
        namespace: 'acme.com',
        trustSource: `chain:${chain.node.chainId}/${address}`,
        seq: 1,
      },
      providers: [
        {
          id: 'sharpen-1',
          endpoint: provider.url('/ok'),
          cost: { unit: 'USDC', baseUnits: '1000' },
          avgResponseTimeMs: 100,
        },
      ],
      report: [
        { registry: 'git', ...found },
        { registry: 'ipfs', ...found },
        { registry: 'chain', ...found },
      ],
    })

    // 7. A governed call from B, its lineage in B's ledger, the ledger's own check, and the bill.
    const called = await ok<{ invocationId: string; lineage: { completed: string; entries: string[] } }>(b, [
      'call',
      name,
      '--input',
      '{"image":"cat.png"}',
    ])
    expect(called).toEqual({
      output: { image: 'cat.png!' },
      provider: { id: 'sharpen-1', endpoint: provider.url('/ok') },
      version: '1.0.0',
      invocationId: called.invocationId,
      attempts: 1,
      replayed: false,
      lineage: {
        invoked: called.lineage.entries[0],
        completed: called.lineage.completed,
        entries: [called.lineage.entries[0], called.lineage.completed],
      },
      charge: { entry: called.lineage.completed, currency: 'USDC', amount: '1000', quantity: '1' },
      via: 'local',
    })
    expect(provider.received.map((r) => [r.path, r.body])).toEqual([['/ok', { image: 'cat.png' }]])

    const shown = await ok<{ entries: { id: string; entry: { type: string } }[] }>(b, [
      'lineage',
      'show',
      called.invocationId,
    ])
    expect(shown.entries.map((e) => [e.id, e.entry.type])).toEqual([
      [called.lineage.entries[0], 'FUNCTION_INVOKED'],
      [called.lineage.completed, 'FUNCTION_COMPLETED'],
    ])
    const { keyId: ledgerKey } = await ok<{ keyId: string }>(b, ['lineage', 'key'])
    expect(await ok(b, ['lineage', 'verify', '--key', ledgerKey])).toEqual({
      ok: true,
      entries: 2,
      completed: 1,
      charges: 1,
      checkpoints: 1,
      root: expect.stringMatching(/^[0-9a-f]{64}$/),
      keys: [ledgerKey],
      keyId: ledgerKey,
      pinned: true,
    })
    expect(await ok(b, ['usage', '--by', 'function'])).toEqual({
      by: 'function',
      rows: [{ key: name, currency: 'USDC', amount: '1000', calls: 1 }],
    })
    // The call was B's: the publisher's data dir has no ledger, and Git still has the one commit.
    expect(await ok(a, ['usage'])).toEqual({ by: 'function', rows: [] })
    expect(await head()).toBe(pushed)
  })

  it('error: --to with an id the config does not have exits 3 naming the ids it has (an entry without an id is TYPE-N at index N)', {
    timeout: 60_000,
  }, async () => {
    const dir = join(tmp, 'ids')
    await mkdir(dir)
    await writeFile(
      join(dir, 'fmesh.json'),
      JSON.stringify({ registries: [{ type: 'memory' }, { type: 'memory' }] }),
    )
    await ok(dir, ['keys', 'new', '--out', 'me.jwk'])
    await ok(dir, ['record', 'new', name, '--out', 'r.json'])
    const refused = await fmesh(dir, ['publish', 'r.json', '--key', 'me.jwk', '--to', 'memory,memory-2'])
    expect([refused.code, refused.body.code, refused.body.shortMessage, refused.body.details]).toEqual([
      3,
      'E_REGISTRY_UNKNOWN',
      'No registry named memory-2; the registries are memory, memory-1',
      { registry: 'memory-2', known: ['memory', 'memory-1'] },
    ])
    // Without --json: the one line a user sees names them too.
    const text = await runCli(['publish', 'r.json', '--key', 'me.jwk', '--to', 'memory-2'], {
      cwd: dir,
      env: cleanEnv(),
    })
    expect([text.code, text.stderr.split('\n')[0]]).toEqual([
      3,
      'error E_REGISTRY_UNKNOWN: No registry named memory-2; the registries are memory, memory-1',
    ])
  })
})
