import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gitRegistry } from '../../registries/git/index.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier, type VerifyOptions } from '../../src/trust/RecordVerifier.js'
import { generateSigner } from '../../src/trust/signer.js'
import { mutate, signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'

const dec = new TextDecoder()
/** Records in the repository: several background batches. */
const COUNT = 600
/** Every this-many-th record is forged: they sit inside the batches and the packs' delta chains. */
const EVERY = 97

/** The real verifier, noting each name it checked and whether it came in a batch. */
class CountingVerifier extends RecordVerifier {
  readonly batched = new Set<string>()
  override verifyMany(
    items: readonly { bytes: Uint8Array; options?: VerifyOptions }[],
    concurrency?: number,
  ) {
    for (const item of items) if (item.options?.expectName) this.batched.add(item.options.expectName)
    return super.verifyMany(items, concurrency)
  }
}

describe('gitRegistry background pass: record blobs read in bulk from the pack, each still checked', () => {
  let root: string
  let dir: string
  let owners: Record<string, string[]>
  const good = new Map<string, Uint8Array>()
  const forged: string[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-bulk-'))
    dir = join(root, 'records.git')
    const key = await generateSigner()
    owners = { 'acme.com': [key.id], 'beta.org': [key.id] }
    const files: { path: string; bytes: Uint8Array }[] = []
    for (let i = 0; i < COUNT; i++) {
      // Names alternate namespaces, so path order is not the order the blobs were written (pack order).
      const name = `${i % 2 === 0 ? 'acme.com' : 'beta.org'}/group-${i % 5}/fn-${i}`
      const record = await signed(key, name, 1)
      if (i % EVERY === EVERY - 1) {
        // Signed, then changed: the signature no longer covers the bytes.
        forged.push(name)
        files.push({
          path: `records/${name}.json`,
          bytes: mutate(record.bytes, (raw) => {
            raw.description = 'forged'
          }),
        })
      } else {
        good.set(name, record.bytes)
        files.push({ path: `records/${name}.json`, bytes: record.bytes })
      }
    }
    // git fast-import stores each blob as a delta on the one before: reads go through delta chains.
    await commitFiles(dir, files)
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('error: refuses every forged record of a bulk-read batch and never serves it; serves the rest byte for byte', async () => {
    const verifier = new CountingVerifier({ trust: [pinnedTrust(owners)] })
    const registry = gitRegistry({ dir, syncIntervalMs: 0 })({
      ...registryComponents({ trust: { owners } }),
      verifier,
    })
    try {
      await registry.start()
      const done = await registry.verified()
      // Each forged record was checked in a background batch, not looked up one by one.
      for (const name of forged) expect(verifier.batched.has(name)).toBe(true)
      expect(done).toMatchObject({ records: COUNT })
      expect(done!.skipped.map((s) => [s.name, s.code])).toEqual(
        [...forged].sort().map((name) => [name, 'E_SIGNATURE_INVALID']),
      )
      expect(done!.changed).toHaveLength(good.size)
      expect(registry.status()).toMatchObject({ verified: good.size, pending: 0 })
      for (const name of forged) expect(await registry.lookup(name)).toBeUndefined()
      const listed: string[] = []
      for await (const name of registry.list('**')) listed.push(name)
      expect(listed.sort()).toEqual([...good.keys()].sort())
      for (const [name, bytes] of good)
        expect(dec.decode((await registry.lookup(name))!.bytes)).toBe(dec.decode(bytes))
    } finally {
      await registry.stop()
      await verifier.close()
    }
  })
})
