// Hostile input from a Git remote: pack files and the trees and commits inside them
// (registries/git/_packIndex.ts, the tree walk of a first sync). A remote controls every byte, the
// pack's SHA-1 trailer included, so the packs here carry a valid trailer over hostile contents.
// Invariant: the indexer returns, or throws an Error named PackIndexError (which the registry turns
// into E_GIT_REMOTE); never a TypeError/RangeError, and never an allocation the pack's size does not
// justify (a delta or zlib stream claiming gigabytes is refused before it is allocated).
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { indexPackWithFiles } from '../../registries/git/_packIndex.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'
import { fuzzParams } from './_fuzz.js'

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest()
const withTrailer = (body: Buffer) => Buffer.concat([body, sha1(body)])

/** An object header: type and size as pack varints. */
function header(type: number, size: number): Buffer {
  const out: number[] = []
  let byte = (type << 4) | (size & 15)
  let rest = Math.floor(size / 16)
  while (rest > 0) {
    out.push(byte | 0x80)
    byte = rest & 0x7f
    rest = Math.floor(rest / 128)
  }
  out.push(byte)
  return Buffer.from(out)
}

function varint(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

interface PackObject {
  type: number
  data: Buffer
  /** Size written in the header (default: the data's). */
  size?: number
  /** ref-delta base id. */
  base?: Buffer
}

/** A pack of `objects`, with a valid trailer. */
function pack(objects: PackObject[], count = objects.length): Buffer {
  const head = Buffer.alloc(12)
  head.write('PACK', 0, 'latin1')
  head.writeUInt32BE(2, 4)
  head.writeUInt32BE(count >>> 0, 8)
  const parts: Buffer[] = [head]
  for (const o of objects) {
    parts.push(header(o.type, o.size ?? o.data.byteLength))
    if (o.type === 7) parts.push(o.base ?? Buffer.alloc(20))
    parts.push(deflateSync(o.data))
  }
  return withTrailer(Buffer.concat(parts))
}

const objectId = (type: string, data: Buffer) =>
  sha1(Buffer.concat([Buffer.from(`${type} ${data.byteLength}\0`), data]))

/** Indexes; only a PackIndexError may come out. */
function indexes(bytes: Buffer, want?: { commit: string }): boolean {
  try {
    indexPackWithFiles(
      bytes,
      want === undefined ? undefined : { commit: want.commit, dir: 'records', suffix: '.json' },
    )
    return true
  } catch (err) {
    expect((err as Error).name, (err as Error).stack).toBe('PackIndexError')
    return false
  }
}

describe('fuzz: git packs', () => {
  let root: string
  let real: Buffer
  let head: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-fuzz-pack-'))
    const gitdir = join(root, 'repo.git')
    const files = Array.from({ length: 24 }, (_, i) => ({
      path: `records/acme.com/f${i % 3}/r${i}.json`,
      bytes: new TextEncoder().encode(JSON.stringify({ i, pad: 'x'.repeat(200 + i) })),
    }))
    await commitFiles(gitdir, files)
    await commitFiles(
      gitdir,
      files.map((f, i) => ({
        ...f,
        bytes: new TextEncoder().encode(JSON.stringify({ i, v: 2, pad: 'x'.repeat(200 + i) })),
      })),
    )
    head = (await systemGit(['rev-parse', 'main'], gitdir)).trim()
    const { spawn } = await import('node:child_process')
    const child = spawn('git', ['pack-objects', '--revs', '--stdout', '-q'], { cwd: gitdir })
    const chunks: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => chunks.push(d))
    child.stdin.end('main\n')
    await new Promise((resolve) => child.on('close', resolve))
    real = Buffer.concat(chunks)
    expect(indexes(real, { commit: head })).toBe(true)
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('a real pack with bytes flipped, cut or inserted (trailer recomputed): indexes or PackIndexError', () => {
    const body = () => real.subarray(0, real.byteLength - 20)
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat(),
            xor: fc.integer({ min: 1, max: 255 }),
            cut: fc.integer({ min: 0, max: 40 }),
            insert: fc.uint8Array({ maxLength: 8 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (edits) => {
          let b = Buffer.from(body())
          for (const e of edits) {
            const at = 12 + (e.at % Math.max(1, b.byteLength - 12))
            b[at] = b[at]! ^ e.xor
            b = Buffer.concat([b.subarray(0, at), Buffer.from(e.insert), b.subarray(at + e.cut)])
          }
          indexes(withTrailer(b), { commit: head })
        },
      ),
      fuzzParams(100),
    )
  })

  it('hostile objects: random headers, sizes, deltas and trees in a well-formed pack: indexes or PackIndexError', () => {
    const base = Buffer.from('base object content\n'.repeat(8))
    const baseId = objectId('blob', base)
    const delta = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      // A valid base size, then a result size from tiny to absurd, then random ops.
      fc
        .tuple(
          fc.oneof(
            fc.nat({ max: 2000 }),
            fc.constant(2 ** 40),
            fc.constant(2 ** 53 - 1),
            fc.constant(2 ** 31),
          ),
          fc.uint8Array({ maxLength: 32 }),
        )
        .map(([size, ops]) => Buffer.concat([varint(base.byteLength), varint(size), Buffer.from(ops)])),
      // Copy ops of the whole base again and again: a result far larger than the delta.
      fc
        .integer({ min: 1, max: 2000 })
        .map((n) =>
          Buffer.concat([
            varint(base.byteLength),
            varint(n * base.byteLength),
            Buffer.concat(Array.from({ length: n }, () => Buffer.from([0x90, base.byteLength]))),
          ]),
        ),
    )
    const tree = fc
      .array(
        fc.record({
          mode: fc.constantFrom('40000', '100644', '160000', '', 'x'),
          name: fc.string({ maxLength: 12 }),
          id: fc.oneof(
            fc.constant(baseId),
            fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b)),
          ),
        }),
        { maxLength: 6 },
      )
      .chain((entries) =>
        fc.oneof(
          fc.constant(
            Buffer.concat(entries.map((e) => Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`), e.id]))),
          ),
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
        ),
      )
    const object = fc.oneof(
      fc.record({
        type: fc.integer({ min: 0, max: 7 }),
        data: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      }),
      fc.record({
        type: fc.constant(3),
        data: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        size: fc.oneof(fc.nat({ max: 100 }), fc.constant(2 ** 40)),
      }),
      fc.record({ type: fc.constant(7), data: delta, base: fc.constant(baseId) }),
      fc.record({ type: fc.constant(2), data: tree }),
      tree.map((t) => ({ type: 1, data: Buffer.from(`tree ${objectId('tree', t).toString('hex')}\n`) })),
    )
    fc.assert(
      fc.property(
        fc.array(object, { maxLength: 5 }),
        fc.option(fc.nat({ max: 2 ** 32 - 1 }), { freq: 4 }),
        (objects, count) => {
          const all: PackObject[] = [{ type: 3, data: base }, ...objects]
          const bytes = pack(all, count ?? all.length)
          const commit = all.find((o) => o.type === 1)
          indexes(
            bytes,
            commit === undefined ? undefined : { commit: objectId('commit', commit.data).toString('hex') },
          )
        },
      ),
      fuzzParams(150),
    )
  })

  it('a zlib stream that inflates far past its header size is refused (PackIndexError), not inflated whole', () => {
    const bomb = Buffer.alloc(32 * 1024 * 1024) // zeros: deflates to ~32 KiB
    const bytes = pack([{ type: 3, data: bomb, size: 10 }])
    expect(indexes(bytes)).toBe(false)
  })

  it('a delta claiming a 1 TiB result is refused before allocation (PackIndexError)', () => {
    const base = Buffer.from('tiny')
    const d = Buffer.concat([varint(base.byteLength), varint(2 ** 40), Buffer.from([0x90, 4])])
    expect(
      indexes(
        pack([
          { type: 3, data: base },
          { type: 7, data: d, base: objectId('blob', base) },
        ]),
      ),
    ).toBe(false)
  })
})
