import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, id } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chainRegistry } from '../registries/chain/chainRegistry.js'
import { deployRegistry } from '../registries/chain/deployRegistry.js'
import { REGISTRY_ABI } from '../registries/chain/registryArtifact.js'
import { createMesh } from '../src/mesh.js'
import { registryComponents } from '../src/registry/registryComponents.js'
import { generateSigner, type LocalSigner } from '../src/trust/signer.js'
import { type Chain, startChain } from './_helpers/chain.js'
import { CLI_TEST_TIMEOUT_MS, runCli } from './_helpers/cli.js'
import { signed } from './_helpers/records.js'

// `fmesh namespace ...` as a user runs it: a CLI process per command against a real anvil.

const cli = (args: string[]) => runCli(args)
/** Runs a command with --json; its result (exit 0) or its error's JSON (exit 1). */
const json = async (args: string[]) => {
  const { code, stdout, stderr } = await cli([...args, '--json'])
  return code === 0
    ? { code, body: JSON.parse(stdout) as Record<string, unknown> }
    : { code, body: (JSON.parse(stderr) as { error: Record<string, unknown> }).error }
}

let chain: Chain
let dir: string
let config: string
let address: string
let fromBlock: number
let publisher: LocalSigner
const keyFile = (i: number) => join(dir, `account-${i}.key`)
const stops: (() => Promise<unknown>)[] = []
/** A chain registry in this process, sending as dev account `account` when given. */
const onChain = (account?: number) => {
  const components = registryComponents({ trust: { owners: {} } })
  const registry = chainRegistry({
    rpcUrl: chain.node.rpcUrl,
    address,
    fromBlock,
    cursor: false,
    ...(account === undefined ? {} : { signer: chain.node.accounts[account]!.privateKey }),
  })(components)
  stops.push(
    () => registry.stop(),
    () => components.close(),
  )
  return registry
}

beforeAll(async () => {
  chain = await startChain()
  dir = await mkdtemp(join(tmpdir(), 'fmesh-cli-ns-'))
  ;({ address, blockNumber: fromBlock } = await deployRegistry(chain.wallets[9]!))
  config = join(dir, 'fmesh.json')
  await writeFile(
    config,
    JSON.stringify({
      dataDir: 'data',
      registries: [
        { type: 'chain', rpcUrl: chain.node.rpcUrl, address, fromBlock, signerKeyFile: 'account-0.key' },
      ],
    }),
  )
  for (const i of [0, 1, 2, 3]) await writeFile(keyFile(i), `${chain.node.accounts[i]!.privateKey}\n`)
  publisher = await generateSigner()
  await writeFile(join(dir, 'publisher.jwk'), JSON.stringify(publisher.exportJwk()))
})
afterAll(async () => {
  for (const stop of stops) await stop()
  await chain?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('fmesh namespace', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('claim, keys add (a JWK file), transfer, and accept from the new owner, whose keys start empty; show', {
    timeout: 90_000,
  }, async () => {
    const [a0, a1] = [chain.wallets[0]!.address, chain.wallets[1]!.address]
    expect(await json(['namespace', 'claim', 'acme.com', '--config', config])).toMatchObject({
      code: 0,
      body: { namespace: 'acme.com', owner: a0, transactionHash: expect.stringMatching(/^0x/) },
    })
    expect(
      await json(['namespace', 'keys', 'add', 'acme.com', join(dir, 'publisher.jwk'), '--config', config]),
    ).toMatchObject({ code: 0, body: { key: publisher.id } })
    expect(await json(['namespace', 'transfer', 'acme.com', a1, '--config', config])).toMatchObject({
      code: 0,
      body: { pendingOwner: a1 },
    })
    expect(await onChain().namespace('acme.com')).toEqual({
      owner: a0,
      pendingOwner: a1,
      publishers: [publisher.id],
    })
    expect(
      await json(['namespace', 'accept', 'acme.com', '--config', config, '--signer-key', keyFile(1)]),
    ).toMatchObject({ code: 0, body: { owner: a1 } })
    expect((await json(['namespace', 'show', 'acme.com', '--config', config])).body).toEqual({
      namespace: 'acme.com',
      claimed: true,
      owner: a1,
      publishers: [],
    })
  })

  it('keys remove (a did:key) and list; cancel a pending transfer', { timeout: 90_000 }, async () => {
    const owner = onChain(3)
    await owner.claim('zeta.io')
    await owner.addPublisher('zeta.io', publisher.id)
    const as3 = ['--config', config, '--signer-key', keyFile(3)]
    expect(await json(['namespace', 'keys', 'remove', 'zeta.io', publisher.id, ...as3])).toMatchObject({
      code: 0,
      body: { namespace: 'zeta.io', key: publisher.id },
    })
    expect((await json(['namespace', 'keys', 'list', 'zeta.io', '--config', config])).body).toEqual({
      namespace: 'zeta.io',
      claimed: true,
      keys: [],
    })
    expect((await json(['namespace', 'transfer', 'zeta.io', chain.wallets[4]!.address, ...as3])).code).toBe(0)
    expect((await json(['namespace', 'cancel', 'zeta.io', ...as3])).code).toBe(0)
    expect(await owner.namespace('zeta.io')).toEqual({ owner: chain.wallets[3]!.address, publishers: [] })
  })

  it('yank, deprecate and unmark mark versions on chain, and resolves follow the marks', {
    timeout: 60_000,
  }, async () => {
    const owner = onChain(0)
    await owner.claim('beta.org')
    await owner.addPublisher('beta.org', publisher.id)
    await owner.publish(await signed(publisher, 'beta.org/fn/a', 1))

    expect(await json(['namespace', 'yank', 'beta.org/fn/a@1.4.1', '--config', config])).toMatchObject({
      code: 0,
      body: { name: 'beta.org/fn/a', version: '1.4.1', status: 'yanked' },
    })
    expect((await json(['namespace', 'deprecate', 'beta.org/fn/a@1.2.0', '--config', config])).code).toBe(0)
    const contract = new Contract(address, REGISTRY_ABI, chain.provider)
    const status = (version: string) =>
      contract.getFunction('versionStatusOf')(id('beta.org/fn/a'), id(version))
    expect([await status('1.4.1'), await status('1.2.0')]).toEqual([2n, 1n])
    const reader = await createMesh({
      registries: [chainRegistry({ rpcUrl: chain.node.rpcUrl, address, fromBlock, cursor: false })],
    })
    try {
      expect((await reader.resolve('beta.org/fn/a@^1.2', { includeDeprecated: true })).version).toBe('1.4.1')
      expect((await reader.resolve('beta.org/fn/a@1.4.1')).mark).toEqual({ deprecated: false, yanked: true })
      expect((await json(['namespace', 'unmark', 'beta.org/fn/a@1.4.1', '--config', config])).code).toBe(0)
      expect(await status('1.4.1')).toBe(0n)
    } finally {
      await reader.close()
    }
  })

  it('error: malformed arguments, no chain in the config, a node that is down, a wrong chain id, a reverted claim, and no signer are each a specific MeshError', {
    timeout: 90_000,
  }, async () => {
    const write = async (name: string, registries: unknown[]) => {
      const file = join(dir, name)
      await writeFile(file, JSON.stringify({ dataDir: 'data', registries }))
      return file
    }
    const entry = { type: 'chain', rpcUrl: chain.node.rpcUrl, address, fromBlock }
    const [noChain, down, wrongId, noSigner] = await Promise.all([
      write('memory.json', [{ type: 'memory' }]),
      write('down.json', [{ ...entry, rpcUrl: 'http://127.0.0.1:1' }]),
      write('wrong-id.json', [{ ...entry, chainId: 1 }]),
      write('no-signer.json', [entry]),
    ])
    const runs = await Promise.all([
      json(['namespace', 'yank', 'beta.org/fn/a', '--config', config]),
      json(['namespace', 'transfer', 'acme.com', 'nobody', '--config', config]),
      json(['namespace', 'keys', 'add', 'acme.com', join(dir, 'missing.jwk'), '--config', config]),
      json(['namespace', 'show', 'acme.com', '--config', noChain]),
      json(['namespace', 'show', 'acme.com', '--config', down]),
      json(['namespace', 'show', 'acme.com', '--config', wrongId]),
      json(['namespace', 'claim', 'gamma.net', '--config', noSigner]),
    ])
    expect(runs.map((r) => [r.code, r.body.code])).toEqual([
      [2, 'E_INVALID_ARGUMENT'],
      [2, 'E_INVALID_ARGUMENT'],
      [2, 'E_INVALID_ARGUMENT'],
      [2, 'E_CHAIN_NOT_CONFIGURED'],
      [1, 'E_CHAIN_RPC'],
      [1, 'E_CHAIN_ID_MISMATCH'],
      [2, 'E_CHAIN_NO_SIGNER'],
    ])
    // Claimed by the first test; account 2 loses the race that never was.
    const reverted = await json([
      'namespace',
      'claim',
      'acme.com',
      '--config',
      config,
      '--signer-key',
      keyFile(2),
    ])
    expect(reverted.body).toMatchObject({ code: 'E_CHAIN_REVERT', details: { error: 'AlreadyClaimed' } })
  })

  it('with `{ "type": "chain" }` and no rpcUrl, a claim lands on a local anvil whose state the next command sees', {
    timeout: 60_000,
  }, async () => {
    const local = join(dir, 'local.json')
    await writeFile(local, JSON.stringify({ dataDir: 'local-data', registries: [{ type: 'chain' }] }))
    const claimed = await json(['namespace', 'claim', 'delta.dev', '--config', local])
    expect(claimed.code, JSON.stringify(claimed.body)).toBe(0)
    const shown = await json(['namespace', 'show', 'delta.dev', '--config', local])
    expect(shown.body).toMatchObject({ claimed: true, owner: claimed.body.owner })
  })
})
