// Hostile input from a chain RPC: the contract's event logs (registries/chain/_chainEvents.ts). An
// RPC node (or whoever sits in front of it) controls every log it returns: topics, data, block
// numbers. The follower applies what decodes to a valid event with a valid name, and a log it
// cannot decode fails the sync with E_CHAIN_RPC (the next sync reads it again); it never throws
// an ethers error or a TypeError, and never indexes a name that is not a valid record name.
import { AbiCoder, hexlify, Interface, id as keccakText, toBeHex } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChainEvents } from '../../registries/chain/_chainEvents.js'
import { REGISTRY_ABI } from '../../registries/chain/registryArtifact.js'
import { normalizeRecordName } from '../../src/name.js'
import { CHAIN_LOG_CODES } from './_codes.js'
import { fuzzParams, meshCodeOfAsync } from './_fuzz.js'

const iface = new Interface(REGISTRY_ABI as never)
const coder = AbiCoder.defaultAbiCoder()
const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const EVENTS = [
  'RecordAnchored',
  'VersionMarked',
  'NamespaceClaimed',
  'PublisherAdded',
  'PublisherRemoved',
  'OwnershipTransferred',
] as const

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b))
const hexData = fc.uint8Array({ maxLength: 300 }).map((b) => hexlify(b))
const nameText = fc.oneof(
  fc.constant('acme.com/image/sharpen'),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'ACME.com/X', 'acme.com', '../x', 'a'.repeat(600)),
)

/** The data of an event's non-indexed fields, well-typed with hostile values, or raw bytes. */
function data(event: (typeof EVENTS)[number]): fc.Arbitrary<string> {
  const fragment = iface.getEvent(event)!
  const types = fragment.inputs.filter((i) => !i.indexed).map((i) => i.type)
  const value = (type: string): fc.Arbitrary<unknown> => {
    if (type === 'string') return nameText
    if (type === 'bytes32') return bytes32
    if (type === 'bytes') return hexData
    if (type === 'address') return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => hexlify(b))
    if (type === 'uint8') return fc.integer({ min: 0, max: 255 })
    return fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constant(0n))
  }
  return fc.oneof(
    fc.tuple(...types.map(value)).map((values) => coder.encode(types, values)),
    hexData,
  )
}

const log = fc
  .record({
    event: fc.constantFrom(...EVENTS),
    extraTopics: fc.array(bytes32, { maxLength: 4 }),
    block: fc.integer({ min: 1, max: 20 }),
    topicCount: fc.integer({ min: 0, max: 4 }),
  })
  .chain(({ event, extraTopics, block, topicCount }) =>
    fc.oneof(data(event), fc.constant('0x')).map((d) => ({
      address: ADDRESS,
      topics: [iface.getEvent(event)!.topicHash, ...extraTopics].slice(0, Math.max(1, topicCount)),
      data: d,
      blockNumber: block,
      blockHash: toBeHex(block, 32),
      transactionHash: keccakText(`tx${block}`),
      index: 0,
      transactionIndex: 0,
      removed: false,
    })),
  )

function follower(logs: unknown[]) {
  const blocks = new Map<number, string>()
  for (let n = 0; n <= 20; n++) blocks.set(n, toBeHex(n, 32))
  const provider = {
    getBlock: async (tag: number | 'latest') => {
      const n = tag === 'latest' ? 20 : tag
      return { number: n, hash: blocks.get(n) ?? null }
    },
    getLogs: async ({ fromBlock, toBlock }: { fromBlock: number; toBlock: number }) =>
      logs.filter(
        (l) =>
          (l as { blockNumber: number }).blockNumber >= fromBlock &&
          (l as { blockNumber: number }).blockNumber <= toBlock,
      ),
  }
  const changed: string[] = []
  const events = new ChainEvents({
    provider: provider as never,
    rpcUrl: 'http://127.0.0.1:0',
    chainId: 31337,
    address: ADDRESS,
    iface,
    fromBlock: 1,
    confirmations: 0,
    clock: { now: () => 0 },
    log: Object.assign(() => {}, { error: () => {}, enabled: false }) as never,
    cursor: undefined,
    onTrustChange: () => {},
    onAnchored: () => {},
    onRetracted: () => {},
    onChange: (c) => changed.push(...c.names),
    anchoredSeq: async () => 0,
    claimed: async () => false,
  })
  return { events, changed }
}

describe('fuzz: chain event logs', () => {
  it('hostile logs: a sync applies the valid ones or fails with E_CHAIN_RPC; only valid record names are indexed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(log, { maxLength: 8 }), async (logs) => {
        const { events, changed } = follower(logs)
        await meshCodeOfAsync(() => events.sync(), CHAIN_LOG_CODES)
        for (const name of [...events.names.keys(), ...changed]) expect(normalizeRecordName(name)).toBe(name)
      }),
      fuzzParams(400),
    )
  })

  const anchored = (name: string, seq: bigint, d?: string) => {
    const fragment = iface.getEvent('RecordAnchored')!
    const types = fragment.inputs.filter((i) => !i.indexed).map((i) => i.type)
    return {
      address: ADDRESS,
      topics: [fragment.topicHash, keccakText('acme.com'), keccakText(name)],
      data: d ?? coder.encode(types, [name, seq, keccakText('r'), keccakText('v'), 1, '0x']),
      blockNumber: 5,
      blockHash: toBeHex(5, 32),
      transactionHash: keccakText('tx'),
      index: 0,
      transactionIndex: 0,
      removed: false,
    }
  }

  it('regression: a RecordAnchored log whose data does not decode fails the sync with E_CHAIN_RPC (was an ethers RangeError)', async () => {
    const { events } = follower([anchored('acme.com/image/sharpen', 3n, '0x')])
    const err = await events.sync().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_CHAIN_RPC' })
    expect(events.names.size).toBe(0)
  })

  it('a valid anchor is applied; one with an invalid name or a seq past 2^53 is skipped', async () => {
    const { events, changed } = follower([
      anchored('acme.com/image/sharpen', 3n),
      anchored('ACME.com/../x', 4n),
      anchored('acme.com/image/big', 2n ** 60n),
    ])
    await events.sync()
    expect([...events.names.keys()]).toEqual(['acme.com/image/sharpen'])
    expect(changed).toEqual(['acme.com/image/sharpen'])
  })
})
