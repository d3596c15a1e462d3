import { type Contract, type Wallet, ZeroAddress } from 'ethers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  addressTopic,
  type Chain,
  eventsOf,
  expectRevert,
  nsHash,
  publisherKey,
  send,
  startChain,
} from '../_helpers/chain.js'

// FunctionMeshRegistry through a real anvil: namespaces, two-step transfer, publisher keys.
// Anchors and version marks: chainContract.anchors.test.ts.

let chain: Chain
let owner: Wallet
let other: Wallet
let third: Wallet
let registry: Contract
const as = (wallet: Wallet) => registry.connect(wallet) as Contract
const ACME = nsHash('acme.com')

beforeAll(async () => {
  chain = await startChain()
  ;[owner, other, third] = chain.wallets as [Wallet, Wallet, Wallet]
})
afterAll(() => chain?.stop())
beforeEach(async () => {
  registry = await chain.deploy()
})

describe('FunctionMeshRegistry: claiming namespaces', () => {
  it('claims a namespace for the first caller and emits NamespaceClaimed with indexed hash and owner', async () => {
    expect(await registry.getFunction('ownerOf')(ACME)).toBe(ZeroAddress)
    const receipt = await send(registry, 'claim', 'acme.com')
    expect(await registry.getFunction('ownerOf')(ACME)).toBe(owner.address)
    const [ns, publishers] = await registry.getFunction('namespaceOf')(ACME)
    expect(ns.owner).toBe(owner.address)
    expect(ns.pendingOwner).toBe(ZeroAddress)
    expect(ns.claimedAtBlock).toBe(BigInt(receipt.blockNumber))
    expect([...publishers]).toEqual([])
    const events = eventsOf(registry.interface, receipt)
    expect(events.map((e) => e.name)).toEqual(['NamespaceClaimed'])
    expect(events[0]!.topics.slice(1)).toEqual([ACME, addressTopic(owner.address)])
    expect(events[0]!.args.namespace).toBe('acme.com')
  })

  it('error: AlreadyClaimed when a second account claims a claimed namespace (first claim wins)', async () => {
    await send(registry, 'claim', 'acme.com')
    await expectRevert(registry, as(other).getFunction('claim')('acme.com'), 'AlreadyClaimed', [
      ACME,
      owner.address,
    ])
    expect(await registry.getFunction('ownerOf')(ACME)).toBe(owner.address)
  })

  it('accepts the longest namespace the name parser accepts (253 bytes of 63-byte labels)', async () => {
    const longest = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')
    expect(longest).toHaveLength(253)
    await send(registry, 'claim', longest)
    expect(await registry.getFunction('ownerOf')(nsHash(longest))).toBe(owner.address)
  })

  it.each([
    ['uppercase', 'Acme.com'],
    ['empty', ''],
    ['an empty label', 'acme..com'],
    ['a label starting with "-"', '-acme.com'],
    ['a label ending with "-"', 'acme-.com'],
    ['a 64-byte label', `${'a'.repeat(64)}.com`],
    ['254 bytes', ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62)].join('.')],
    ['a "/"', 'acme.com/x'],
    ['an underscore', 'ac_me.com'],
  ])('error: InvalidNamespace for %s', async (_what, namespace) => {
    await expectRevert(registry, registry.getFunction('claim')(namespace), 'InvalidNamespace', [namespace])
  })
})

describe('FunctionMeshRegistry: two-step ownership transfer', () => {
  beforeEach(async () => {
    await send(registry, 'claim', 'acme.com')
  })

  it('transferOwnership records a pending owner and changes nothing else until accepted', async () => {
    const receipt = await send(registry, 'transferOwnership', ACME, other.address)
    const [ns] = await registry.getFunction('namespaceOf')(ACME)
    expect(ns.owner).toBe(owner.address)
    expect(ns.pendingOwner).toBe(other.address)
    const [event] = eventsOf(registry.interface, receipt)
    expect(event!.name).toBe('OwnershipTransferStarted')
    expect(event!.topics.slice(1)).toEqual([ACME, addressTopic(owner.address), addressTopic(other.address)])
    // The pending owner has no rights before accepting.
    await expectRevert(
      registry,
      as(other).getFunction('addPublisher')(ACME, await publisherKey()),
      'NotOwner',
    )
  })

  it('acceptOwnership moves the namespace, clears the old keys, and refuses the old owner afterwards', async () => {
    const oldKey = await publisherKey()
    await send(registry, 'addPublisher', ACME, oldKey)
    await send(registry, 'transferOwnership', ACME, other.address)
    const receipt = await send(as(other), 'acceptOwnership', ACME)
    const events = eventsOf(registry.interface, receipt)
    expect(events.map((e) => e.name)).toEqual(['PublisherRemoved', 'OwnershipTransferred'])
    expect(events[0]!.topics.slice(1)).toEqual([ACME, oldKey])
    expect(events[1]!.topics.slice(1)).toEqual([
      ACME,
      addressTopic(owner.address),
      addressTopic(other.address),
    ])
    const [ns, publishers] = await registry.getFunction('namespaceOf')(ACME)
    expect(ns.owner).toBe(other.address)
    expect(ns.pendingOwner).toBe(ZeroAddress)
    expect([...publishers]).toEqual([])
    expect(await registry.getFunction('isPublisher')(ACME, oldKey)).toBe(false)
    await expectRevert(registry, registry.getFunction('addPublisher')(ACME, oldKey), 'NotOwner', [
      ACME,
      owner.address,
    ])
    await expectRevert(registry, registry.getFunction('transferOwnership')(ACME, owner.address), 'NotOwner')
  })

  it('cancelOwnershipTransfer withdraws the offer; accepting it then fails with NotPendingOwner', async () => {
    await send(registry, 'transferOwnership', ACME, other.address)
    const receipt = await send(registry, 'cancelOwnershipTransfer', ACME)
    const [event] = eventsOf(registry.interface, receipt)
    expect(event!.name).toBe('OwnershipTransferCancelled')
    expect(event!.topics.slice(1)).toEqual([ACME, addressTopic(owner.address), addressTopic(other.address)])
    await expectRevert(registry, as(other).getFunction('acceptOwnership')(ACME), 'NotPendingOwner', [
      ACME,
      other.address,
    ])
    expect(await registry.getFunction('ownerOf')(ACME)).toBe(owner.address)
  })

  it('a second transferOwnership replaces the pending owner', async () => {
    await send(registry, 'transferOwnership', ACME, other.address)
    await send(registry, 'transferOwnership', ACME, third.address)
    await expectRevert(registry, as(other).getFunction('acceptOwnership')(ACME), 'NotPendingOwner')
    await send(as(third), 'acceptOwnership', ACME)
    expect(await registry.getFunction('ownerOf')(ACME)).toBe(third.address)
  })

  it('error: NotPendingOwner for an account that was not offered the namespace', async () => {
    await send(registry, 'transferOwnership', ACME, other.address)
    await expectRevert(registry, as(third).getFunction('acceptOwnership')(ACME), 'NotPendingOwner', [
      ACME,
      third.address,
    ])
  })

  it('error: NoPendingTransfer when cancelling with no transfer pending', async () => {
    await expectRevert(registry, registry.getFunction('cancelOwnershipTransfer')(ACME), 'NoPendingTransfer', [
      ACME,
    ])
  })

  it('error: InvalidNewOwner for the zero address and for the current owner', async () => {
    await expectRevert(
      registry,
      registry.getFunction('transferOwnership')(ACME, ZeroAddress),
      'InvalidNewOwner',
      [ZeroAddress],
    )
    await expectRevert(
      registry,
      registry.getFunction('transferOwnership')(ACME, owner.address),
      'InvalidNewOwner',
      [owner.address],
    )
  })

  it('error: NotOwner for a stranger; UnknownNamespace for an unclaimed namespace', async () => {
    await expectRevert(
      registry,
      as(other).getFunction('transferOwnership')(ACME, other.address),
      'NotOwner',
      [ACME, other.address],
    )
    await expectRevert(registry, as(other).getFunction('cancelOwnershipTransfer')(ACME), 'NotOwner')
    const unclaimed = nsHash('nobody.org')
    await expectRevert(
      registry,
      registry.getFunction('transferOwnership')(unclaimed, other.address),
      'UnknownNamespace',
      [unclaimed],
    )
    await expectRevert(registry, as(other).getFunction('acceptOwnership')(unclaimed), 'UnknownNamespace', [
      unclaimed,
    ])
  })
})

describe('FunctionMeshRegistry: publisher keys', () => {
  beforeEach(async () => {
    await send(registry, 'claim', 'acme.com')
  })

  it('adds and removes keys with indexed events; publishersOf and isPublisher follow', async () => {
    const [a, b, c] = [await publisherKey(), await publisherKey(), await publisherKey()]
    const added = await send(registry, 'addPublisher', ACME, a)
    const [event] = eventsOf(registry.interface, added)
    expect(event!.name).toBe('PublisherAdded')
    expect(event!.topics.slice(1)).toEqual([ACME, a])
    await send(registry, 'addPublisher', ACME, b)
    await send(registry, 'addPublisher', ACME, c)
    expect([...(await registry.getFunction('publishersOf')(ACME))]).toEqual([a, b, c])
    const removed = await send(registry, 'removePublisher', ACME, a)
    expect(eventsOf(registry.interface, removed).map((e) => [e.name, ...e.topics.slice(1)])).toEqual([
      ['PublisherRemoved', ACME, a],
    ])
    expect([...(await registry.getFunction('publishersOf')(ACME))].sort()).toEqual([b, c].sort())
    expect(await registry.getFunction('isPublisher')(ACME, a)).toBe(false)
    expect(await registry.getFunction('isPublisher')(ACME, b)).toBe(true)
    // The moved key stays removable.
    await send(registry, 'removePublisher', ACME, c)
    expect([...(await registry.getFunction('publishersOf')(ACME))]).toEqual([b])
  })

  it('rotates a key: add the new one, remove the old one, and only the new one is a publisher', async () => {
    const [oldKey, newKey] = [await publisherKey(), await publisherKey()]
    await send(registry, 'addPublisher', ACME, oldKey)
    await send(registry, 'addPublisher', ACME, newKey)
    await send(registry, 'removePublisher', ACME, oldKey)
    expect(await registry.getFunction('isPublisher')(ACME, oldKey)).toBe(false)
    expect(await registry.getFunction('isPublisher')(ACME, newKey)).toBe(true)
    expect([...(await registry.getFunction('publishersOf')(ACME))]).toEqual([newKey])
    // Keys belong to one namespace only.
    expect(await registry.getFunction('isPublisher')(nsHash('other.org'), newKey)).toBe(false)
  })

  it('error: KeyExists for a key added twice, UnknownKey for removing a key not listed', async () => {
    const key = await publisherKey()
    await send(registry, 'addPublisher', ACME, key)
    await expectRevert(registry, registry.getFunction('addPublisher')(ACME, key), 'KeyExists', [ACME, key])
    const absent = await publisherKey()
    await expectRevert(registry, registry.getFunction('removePublisher')(ACME, absent), 'UnknownKey', [
      ACME,
      absent,
    ])
  })

  it('error: InvalidKey for the zero key', async () => {
    await expectRevert(
      registry,
      registry.getFunction('addPublisher')(ACME, `0x${'00'.repeat(32)}`),
      'InvalidKey',
    )
  })

  it('error: TooManyKeys past MAX_PUBLISHERS (16) keys', async () => {
    const max = Number(await registry.getFunction('MAX_PUBLISHERS')())
    expect(max).toBe(16)
    for (let i = 0; i < max; i++) await send(registry, 'addPublisher', ACME, await publisherKey())
    await expectRevert(
      registry,
      registry.getFunction('addPublisher')(ACME, await publisherKey()),
      'TooManyKeys',
      [16n],
    )
  })

  it('error: NotOwner when a stranger adds or removes a key; UnknownNamespace when unclaimed', async () => {
    const key = await publisherKey()
    await send(registry, 'addPublisher', ACME, key)
    await expectRevert(
      registry,
      as(other).getFunction('addPublisher')(ACME, await publisherKey()),
      'NotOwner',
      [ACME, other.address],
    )
    await expectRevert(registry, as(other).getFunction('removePublisher')(ACME, key), 'NotOwner')
    const unclaimed = nsHash('nobody.org')
    await expectRevert(registry, registry.getFunction('addPublisher')(unclaimed, key), 'UnknownNamespace', [
      unclaimed,
    ])
    await expectRevert(registry, registry.getFunction('removePublisher')(unclaimed, key), 'UnknownNamespace')
  })
})
