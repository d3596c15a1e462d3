import { type Contract, sha256, toUtf8Bytes, type Wallet } from 'ethers'
import fc from 'fast-check'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { normalizeRecordName } from '../../src/name.js'
import { generateSigner } from '../../src/trust/signer.js'
import { type Chain, eventsOf, expectRevert, nameHash, nsHash, send, startChain } from '../_helpers/chain.js'
import { signed } from '../_helpers/records.js'

// FunctionMeshRegistry through a real anvil: record anchors, version marks, lookup, name rules.

const CID = 1
const INLINE = 2
const DEPRECATED = 1
const YANKED = 2
const NAME = 'acme.com/image/sharpen'
const ACME = nsHash('acme.com')
const SHARPEN = nameHash(NAME)
const cidBytes = (cid: string) => toUtf8Bytes(cid)
const digest = (label: string) => sha256(toUtf8Bytes(label))

let chain: Chain
let owner: Wallet
let other: Wallet
let registry: Contract
const as = (wallet: Wallet) => registry.connect(wallet) as Contract
const view = (method: string, ...args: unknown[]) => registry.getFunction(method)(...args)

beforeAll(async () => {
  chain = await startChain()
  ;[owner, other] = chain.wallets as [Wallet, Wallet]
})
afterAll(() => chain?.stop())
beforeEach(async () => {
  registry = await chain.deploy()
  await send(registry, 'claim', 'acme.com')
})

describe('FunctionMeshRegistry: record anchors', () => {
  it('publish with a CID pointer anchors seq, digests, pointer and block; anchorOf and lookup return it', async () => {
    const pointer = cidBytes('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    const receipt = await send(registry, 'publish', NAME, 3, digest('r3'), digest('v3'), CID, pointer)
    const anchor = await view('anchorOf', SHARPEN)
    expect(anchor.nsHash).toBe(ACME)
    expect(anchor.seq).toBe(3n)
    expect(anchor.recordDigest).toBe(digest('r3'))
    expect(anchor.versionSetDigest).toBe(digest('v3'))
    expect(anchor.pointerKind).toBe(BigInt(CID))
    expect(anchor.pointer).toBe(`0x${Buffer.from(pointer).toString('hex')}`)
    expect(anchor.updatedAtBlock).toBe(BigInt(receipt.blockNumber))
    const [looked, lookedOwner, publishers, marks] = await view('lookup', NAME)
    expect(looked.toObject()).toEqual(anchor.toObject())
    expect(lookedOwner).toBe(owner.address)
    expect([...publishers]).toEqual([])
    expect([...marks]).toEqual([])
    const [event] = eventsOf(registry.interface, receipt)
    expect(event!.name).toBe('RecordAnchored')
    expect(event!.topics.slice(1)).toEqual([ACME, SHARPEN])
    expect(event!.args.toObject()).toMatchObject({
      name: NAME,
      seq: 3n,
      recordDigest: digest('r3'),
      versionSetDigest: digest('v3'),
      pointerKind: BigInt(CID),
      pointer: anchor.pointer,
    })
  })

  it('publish with inline canonical record bytes stores them when sha256 matches the record digest', async () => {
    const record = await signed(await generateSigner(), NAME, 1)
    await send(registry, 'publish', NAME, 1, sha256(record.bytes), digest('v1'), INLINE, record.bytes)
    const anchor = await view('anchorOf', SHARPEN)
    expect(Buffer.from(anchor.pointer.slice(2), 'hex')).toEqual(Buffer.from(record.bytes))
    expect(anchor.pointerKind).toBe(BigInt(INLINE))
  })

  it('a later publish with a higher seq replaces the anchor; an unanchored name reads as seq 0', async () => {
    expect((await view('anchorOf', SHARPEN)).seq).toBe(0n)
    await send(registry, 'publish', NAME, 1, digest('r1'), digest('v1'), CID, cidBytes('bafy-one'))
    await send(registry, 'publish', NAME, 2, digest('r2'), digest('v2'), CID, cidBytes('bafy-two'))
    const anchor = await view('anchorOf', SHARPEN)
    expect(anchor.seq).toBe(2n)
    expect(anchor.recordDigest).toBe(digest('r2'))
  })

  it('error: StaleSeq for an equal and for a lower seq, naming the anchored and the given seq', async () => {
    await send(registry, 'publish', NAME, 5, digest('r5'), digest('v5'), CID, cidBytes('bafy-five'))
    const publish = (seq: number) =>
      registry.getFunction('publish')(NAME, seq, digest('x'), digest('x'), CID, cidBytes('bafy-x'))
    await expectRevert(registry, publish(5), 'StaleSeq', [5n, 5n])
    await expectRevert(registry, publish(4), 'StaleSeq', [5n, 4n])
    await expectRevert(registry, publish(0), 'StaleSeq', [5n, 0n])
    expect((await view('anchorOf', SHARPEN)).recordDigest).toBe(digest('r5'))
  })

  it('error: StaleSeq for seq 0 on a name never anchored', async () => {
    await expectRevert(
      registry,
      registry.getFunction('publish')(NAME, 0, digest('x'), digest('x'), CID, cidBytes('bafy-x')),
      'StaleSeq',
      [0n, 0n],
    )
  })

  it('error: DigestMismatch when inline bytes do not hash to the record digest', async () => {
    const bytes = toUtf8Bytes('{"name":"acme.com/image/sharpen"}')
    await expectRevert(
      registry,
      registry.getFunction('publish')(NAME, 1, digest('other'), digest('v'), INLINE, bytes),
      'DigestMismatch',
      [digest('other'), sha256(bytes)],
    )
  })

  it('accepts inline bytes of exactly 4 KiB; error: PointerTooLong at 4 KiB + 1', async () => {
    const max = Number(await view('MAX_INLINE_LENGTH'))
    expect(max).toBe(4096)
    const atLimit = new Uint8Array(max).fill(0x61)
    await send(registry, 'publish', NAME, 1, sha256(atLimit), digest('v'), INLINE, atLimit)
    const over = new Uint8Array(max + 1).fill(0x61)
    await expectRevert(
      registry,
      registry.getFunction('publish')(NAME, 2, sha256(over), digest('v'), INLINE, over),
      'PointerTooLong',
      [4097n, 4096n],
    )
  })

  it.each([
    ['an unknown pointer kind', 3, cidBytes('bafy')],
    ['pointer kind 0', 0, cidBytes('bafy')],
    ['an empty CID', CID, new Uint8Array()],
    ['a CID over 128 bytes', CID, new Uint8Array(129).fill(0x62)],
    ['empty inline bytes', INLINE, new Uint8Array()],
  ])('error: InvalidPointer for %s', async (_what, kind, pointer) => {
    await expectRevert(
      registry,
      registry.getFunction('publish')(NAME, 1, sha256(pointer), digest('v'), kind, pointer),
      'InvalidPointer',
      [BigInt(kind), BigInt(pointer.length)],
    )
  })

  it('error: NotOwner for a publish by another account; UnknownNamespace for an unclaimed namespace', async () => {
    const args = [1, digest('r'), digest('v'), CID, cidBytes('bafy')] as const
    await expectRevert(registry, as(other).getFunction('publish')(NAME, ...args), 'NotOwner', [
      ACME,
      other.address,
    ])
    await expectRevert(
      registry,
      registry.getFunction('publish')('nobody.org/x', ...args),
      'UnknownNamespace',
      [nsHash('nobody.org')],
    )
  })

  it("a transferred namespace's new owner publishes above the anchored seq; the old owner is refused", async () => {
    await send(registry, 'publish', NAME, 1, digest('r1'), digest('v1'), CID, cidBytes('bafy-one'))
    await send(registry, 'transferOwnership', ACME, other.address)
    await send(as(other), 'acceptOwnership', ACME)
    await expectRevert(
      registry,
      registry.getFunction('publish')(NAME, 2, digest('r2'), digest('v2'), CID, cidBytes('bafy-two')),
      'NotOwner',
    )
    await expectRevert(
      registry,
      as(other).getFunction('publish')(NAME, 1, digest('r'), digest('v'), CID, cidBytes('bafy')),
      'StaleSeq',
      [1n, 1n],
    )
    await send(as(other), 'publish', NAME, 2, digest('r2'), digest('v2'), CID, cidBytes('bafy-two'))
    expect((await view('anchorOf', SHARPEN)).seq).toBe(2n)
  })
})

describe('FunctionMeshRegistry: record names', () => {
  it.each([
    ['no "/"', 'acme.com'],
    ['uppercase', 'Acme.com/image/sharpen'],
    ['an empty path', 'acme.com/'],
    ['an empty segment', 'acme.com/image//sharpen'],
    ['a segment starting with "-"', 'acme.com/-sharpen'],
    ['a segment ending with "."', 'acme.com/sharpen.'],
    ['".." in a segment', 'acme.com/a..b'],
    ['9 segments', `acme.com/${Array(9).fill('a').join('/')}`],
    ['a 65-byte segment', `acme.com/${'a'.repeat(65)}`],
    ['257 bytes', `acme.com/${Array(4).fill('a'.repeat(60)).join('/')}/${'b'.repeat(4)}`],
    ['a bad namespace', '-acme.com/x'],
    ['a selector', 'acme.com/x@1.0.0'],
  ])('error: InvalidName for a name with %s', async (_what, name) => {
    await expectRevert(
      registry,
      registry.getFunction('publish')(name, 1, digest('r'), digest('v'), CID, cidBytes('bafy')),
      'InvalidName',
      [name],
    )
  })

  it('accepts a 256-byte name of 8 segments', async () => {
    const name = `acme.com/${Array(4).fill('a'.repeat(60)).join('/')}/${'b'.repeat(3)}`
    expect(name).toHaveLength(256)
    await send(registry, 'publish', name, 1, digest('r'), digest('v'), CID, cidBytes('bafy'))
    expect((await view('anchorOf', nameHash(name))).seq).toBe(1n)
  })

  it('refuses exactly the names the mesh name parser refuses (property, over eth_call)', async () => {
    const alphabet = fc.constantFrom(...'ab09.-_/A@'.split(''))
    const names = fc.oneof(
      fc.string({ unit: alphabet, minLength: 0, maxLength: 24 }),
      fc.string({ unit: alphabet, minLength: 0, maxLength: 12 }).map((p) => `acme.com/${p}`),
    )
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        let parserAccepts = true
        try {
          parserAccepts = normalizeRecordName(name) === name
        } catch {
          parserAccepts = false
        }
        // Ownership is checked after the name, so a valid name from a stranger reverts NotOwner or
        // UnknownNamespace, never InvalidName.
        const err = await as(other)
          .getFunction('publish')
          .staticCall(name, 1, digest('r'), digest('v'), CID, cidBytes('bafy'))
          .then(
            () => undefined,
            (e: { revert?: { name: string } }) => e.revert?.name,
          )
        expect(err === 'InvalidName', name).toBe(!parserAccepts)
      }),
      { numRuns: 150 },
    )
  })
})

describe('FunctionMeshRegistry: version marks (yank, deprecate)', () => {
  const versionHash = (v: string) => nameHash(v)

  it('markVersion yanks and deprecates with indexed events; versionStatusOf, versionMarksOf and lookup report it', async () => {
    const yanked = await send(registry, 'markVersion', NAME, '1.2.0', YANKED)
    const [event] = eventsOf(registry.interface, yanked)
    expect(event!.name).toBe('VersionMarked')
    expect(event!.topics.slice(1)).toEqual([ACME, SHARPEN, versionHash('1.2.0')])
    expect(event!.args.toObject()).toMatchObject({ name: NAME, version: '1.2.0', previous: 0n, status: 2n })
    await send(registry, 'markVersion', NAME, '1.0.0', DEPRECATED)
    expect(await view('versionStatusOf', SHARPEN, versionHash('1.2.0'))).toBe(BigInt(YANKED))
    expect(await view('versionStatusOf', SHARPEN, versionHash('1.0.0'))).toBe(BigInt(DEPRECATED))
    expect(await view('versionStatusOf', SHARPEN, versionHash('1.4.1'))).toBe(0n)
    const marks = (await view('versionMarksOf', SHARPEN)).map((m: { version: string; status: bigint }) => [
      m.version,
      m.status,
    ])
    expect(marks).toEqual([
      ['1.2.0', 2n],
      ['1.0.0', 1n],
    ])
    const [, , , looked] = await view('lookup', NAME)
    expect(looked.map((m: { version: string }) => m.version)).toEqual(['1.2.0', '1.0.0'])
    // Marks do not touch the anchor.
    expect((await view('anchorOf', SHARPEN)).seq).toBe(0n)
  })

  it('changes a mark in place and clears it with 0; the other marks stay reachable', async () => {
    await send(registry, 'markVersion', NAME, '1.0.0', DEPRECATED)
    await send(registry, 'markVersion', NAME, '1.2.0', DEPRECATED)
    await send(registry, 'markVersion', NAME, '2.0.0-beta.1', YANKED)
    const both = await send(registry, 'markVersion', NAME, '1.0.0', DEPRECATED | YANKED)
    expect(eventsOf(registry.interface, both)[0]!.args.toObject()).toMatchObject({ previous: 1n, status: 3n })
    const cleared = await send(registry, 'markVersion', NAME, '1.0.0', 0)
    expect(eventsOf(registry.interface, cleared)[0]!.args.toObject()).toMatchObject({
      previous: 3n,
      status: 0n,
    })
    expect(await view('versionStatusOf', SHARPEN, versionHash('1.0.0'))).toBe(0n)
    const versions = (await view('versionMarksOf', SHARPEN)).map((m: { version: string }) => m.version)
    expect([...versions].sort()).toEqual(['1.2.0', '2.0.0-beta.1'])
    // The mark moved into the freed slot is still found and clearable.
    await send(registry, 'markVersion', NAME, '2.0.0-beta.1', 0)
    expect(await view('versionStatusOf', SHARPEN, versionHash('1.2.0'))).toBe(BigInt(DEPRECATED))
    expect((await view('versionMarksOf', SHARPEN)).map((m: { version: string }) => m.version)).toEqual([
      '1.2.0',
    ])
  })

  it('error: InvalidVersion for an empty, a 65-byte and a version with a space', async () => {
    for (const version of ['', '1'.repeat(65), '1.0 .0']) {
      await expectRevert(
        registry,
        registry.getFunction('markVersion')(NAME, version, YANKED),
        'InvalidVersion',
        [version],
      )
    }
  })

  it('error: InvalidStatus for a status above DEPRECATED | YANKED', async () => {
    await expectRevert(registry, registry.getFunction('markVersion')(NAME, '1.0.0', 4), 'InvalidStatus', [4n])
  })

  it('error: NotOwner for a stranger; InvalidName for a bad name', async () => {
    await expectRevert(registry, as(other).getFunction('markVersion')(NAME, '1.0.0', YANKED), 'NotOwner', [
      ACME,
      other.address,
    ])
    await expectRevert(
      registry,
      registry.getFunction('markVersion')('acme.com', '1.0.0', YANKED),
      'InvalidName',
    )
  })

  it('error: TooManyVersionMarks past MAX_VERSION_MARKS (64) marked versions of one name', async () => {
    expect(await view('MAX_VERSION_MARKS')).toBe(64n)
    for (let i = 0; i < 64; i++) await send(registry, 'markVersion', NAME, `1.0.${i}`, YANKED)
    await expectRevert(
      registry,
      registry.getFunction('markVersion')(NAME, '1.0.64', YANKED),
      'TooManyVersionMarks',
      [64n],
    )
    // Changing an existing mark still works at the limit.
    await send(registry, 'markVersion', NAME, '1.0.0', DEPRECATED)
  })
})

describe('FunctionMeshRegistry: lookup', () => {
  it('returns the owner and publisher keys of the namespace with an empty anchor for an unpublished name', async () => {
    const key = sha256(toUtf8Bytes('key'))
    await send(registry, 'addPublisher', ACME, key)
    const [anchor, owner_, publishers] = await view('lookup', 'acme.com/never/published')
    expect(anchor.seq).toBe(0n)
    expect(owner_).toBe(owner.address)
    expect([...publishers]).toEqual([key])
  })

  it('error: InvalidName for a name without "/"', async () => {
    await expectRevert(registry, view('lookup', 'acme.com'), 'InvalidName', ['acme.com'])
  })
})
