// Hostile input in the IPFS registry: its saved name index (registries/ipfs/_nameIndex.ts), IPNS
// record bytes (the protobuf every IPNS record arrives in), and record blocks whose bytes are not
// what their CID says (a damaged blockstore, or a peer serving other bytes).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IPNSEntry } from '@helia/ipns'
import { FsDatastore } from 'datastore-fs'
import fc from 'fast-check'
import { Key } from 'interface-datastore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NameIndex } from '../../registries/ipfs/_nameIndex.js'
import { type IpfsRegistry, ipfsRegistry } from '../../registries/ipfs/index.js'
import { registryComponents, type StandaloneComponents } from '../../src/registry/registryComponents.js'
import { conformanceRecord } from '../../src/testing/registryConformance.js'
import { generateSigner } from '../../src/trust/signer.js'
import { IPFS_CODES } from './_codes.js'
import { fuzzParams, hostileBytes, meshCodeOfAsync } from './_fuzz.js'

const enc = new TextEncoder()

describe('fuzz: IPFS registry input', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-fuzz-ipfs-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('the saved name index: any root or entry value loads or is E_IPFS_INDEX_CORRUPT', async () => {
    const store = new FsDatastore(join(root, 'datastore'))
    await store.open()
    const prefix = `/fmesh-ipfs/${Buffer.from('ipfs').toString('hex')}`
    const value = fc.oneof(
      hostileBytes(200),
      fc
        .record(
          {
            root: fc.oneof(
              fc.constant('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'),
              fc.string(),
            ),
            ipnsSequence: fc.oneof(fc.string(), fc.constant('7')),
          },
          { requiredKeys: [] },
        )
        .map((v) => enc.encode(JSON.stringify(v))),
      fc
        .record(
          {
            cid: fc.oneof(
              fc.constant('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'),
              fc.string(),
            ),
            seq: fc.oneof(fc.nat(), fc.double()),
            id: fc.string(),
          },
          { requiredKeys: [] },
        )
        .map((v) => enc.encode(JSON.stringify(v))),
    )
    try {
      await fc.assert(
        fc.asyncProperty(value, value, async (rootValue, entryValue) => {
          await store.put(new Key(`${prefix}/root`), rootValue)
          await store.put(new Key(`${prefix}/names/${Buffer.from('acme.com/x').toString('hex')}`), entryValue)
          await meshCodeOfAsync(() => new NameIndex(store, 'ipfs').load(), IPFS_CODES)
        }),
        fuzzParams(60),
      )
    } finally {
      await store.close()
    }
  })

  it('IPNS record bytes: the protobuf decodes or throws an Error (never hangs or throws a non-Error)', () => {
    fc.assert(
      fc.property(hostileBytes(300), (bytes) => {
        try {
          IPNSEntry.decode(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(Error)
        }
      }),
      fuzzParams(500),
    )
  })

  describe('record blocks', () => {
    let components: StandaloneComponents
    let registry: IpfsRegistry
    let blockFile: string
    let original: Buffer
    beforeAll(async () => {
      const signer = await generateSigner()
      components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
      const dir = join(root, 'registry')
      // No record cache: every lookup reads the block from disk, which is the check under test.
      registry = ipfsRegistry({ dir, recordCacheBytes: 0 })(components)
      await registry.start()
      await registry.publish(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
      original = Buffer.from((await registry.lookup('acme.com/image/sharpen'))!.bytes)
      for (const entry of await readdir(join(dir, 'blocks'), { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name)
        if (entry.isFile() && (await readFile(path)).equals(original)) blockFile = path
      }
    })
    afterAll(async () => {
      await registry?.stop()
      await components?.close()
    })

    it('a record block whose bytes changed is refused with E_IPFS_BLOCK_CORRUPT; restored, it is served again', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .oneof(
              hostileBytes(300),
              fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
                const b = Buffer.from(original)
                b[at % b.byteLength] = b[at % b.byteLength]! ^ xor
                return b
              }),
            )
            .filter((b) => !Buffer.from(b).equals(original)),
          async (bytes) => {
            await writeFile(blockFile, bytes)
            const code = await meshCodeOfAsync(() => registry.lookup('acme.com/image/sharpen'), IPFS_CODES)
            expect(code).toBe('E_IPFS_BLOCK_CORRUPT')
          },
        ),
        fuzzParams(40),
      )
      await writeFile(blockFile, original)
      expect(Buffer.from((await registry.lookup('acme.com/image/sharpen'))!.bytes).equals(original)).toBe(
        true,
      )
    })
  })
})
