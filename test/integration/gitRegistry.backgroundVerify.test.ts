import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { gitRegistry } from '../../registries/git/index.js'
import type { GitRegistry } from '../../registries/git/types.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier, type VerifyOptions } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { mutate, signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
/** More than one background batch, so the records that sort last wait behind the first. */
const COUNT = 300
const FORGED = 'zzz.example/last/forged'
const LAST = 'zzz.example/last/good'

/**
 * A real verifier whose large batches (the background pass) wait for `open()`, so a test can look
 * records up while the rest are pending; it notes every name it checked, in order.
 */
class GatedVerifier extends RecordVerifier {
  readonly checked: string[] = []
  /** The names of the batches waiting at the gate. */
  readonly held: string[] = []
  private gate = Promise.withResolvers<void>()
  open(): void {
    this.gate.resolve()
  }
  override async verifyMany(
    items: readonly { bytes: Uint8Array; options?: VerifyOptions }[],
    concurrency?: number,
  ) {
    if (items.length >= 100) {
      for (const item of items) if (item.options?.expectName) this.held.push(item.options.expectName)
      await this.gate.promise
    }
    for (const item of items) if (item.options?.expectName) this.checked.push(item.options.expectName)
    return super.verifyMany(items, concurrency)
  }
}

describe('gitRegistry first sync: ready once indexed, every record verified before it is served', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let key: LocalSigner
  let owners: Record<string, string[]>
  let records: EncodedRecord[]
  let registry: GitRegistry | undefined
  let verifier: GatedVerifier | undefined

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-background-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    key = await generateSigner()
    owners = { 'acme.com': [key.id], 'zzz.example': [key.id] }
    records = await Promise.all(
      Array.from({ length: COUNT }, (_, i) => signed(key, `acme.com/group-${i % 7}/fn-${i}`, 1)),
    )
    records.push(await signed(key, LAST, 5))
    // Signed, then changed: the signature no longer covers the bytes.
    const forged = mutate((await signed(key, FORGED, 1)).bytes, (raw) => {
      raw.description = 'forged'
    })
    const bare = join(server.root, 'records.git')
    await commitFiles(bare, [
      { path: 'README.md', bytes: enc.encode('# records\n') },
      ...records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
      { path: `records/${FORGED}.json`, bytes: forged },
    ])
    await systemGit(['repack', '-adq'], bare)
    url = server.url('records.git')
  })
  afterEach(async () => {
    verifier?.open()
    await registry?.stop()
    await verifier?.close()
    registry = undefined
    verifier = undefined
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  function open(dir: string): { registry: GitRegistry; verifier: GatedVerifier } {
    verifier = new GatedVerifier({ trust: [pinnedTrust(owners)] })
    registry = gitRegistry({ dir: join(root, dir), url, syncIntervalMs: 0 })({
      ...registryComponents({ trust: { owners } }),
      verifier,
    })
    return { registry, verifier }
  }

  it('answers while records are pending, and status() counts verified and pending ones', async () => {
    const { registry, verifier } = open('status')
    await registry.start()
    const status = registry.status()
    expect(status.names).toBe(COUNT + 2)
    expect(status.pending + status.verified).toBe(COUNT + 2)
    expect(status.pending).toBeGreaterThan(0)
    const entry = await registry.lookup(LAST)
    expect(dec.decode(entry!.bytes)).toBe(dec.decode(records.at(-1)!.bytes))
    expect(verifier.checked).toContain(LAST)
    expect(registry.status().verified).toBeGreaterThanOrEqual(1)
  })

  it('error: refuses a forged record at its first lookup, and never serves or lists it', async () => {
    const { registry, verifier } = open('forged')
    await registry.start()
    expect(await registry.lookup(FORGED)).toBeUndefined()
    expect(verifier.checked).toContain(FORGED)
    const listed: string[] = []
    for await (const name of registry.list('zzz.example/**')) listed.push(name)
    expect(listed).toEqual([LAST])
    verifier.open()
    const done = await registry.verified()
    expect(done).toMatchObject({ records: COUNT + 2 })
    expect(done!.skipped.map((s) => [s.name, s.code])).toEqual([[FORGED, 'E_SIGNATURE_INVALID']])
    expect(done!.changed).toHaveLength(COUNT + 1)
    expect(done!.durationMs).toBeGreaterThan(0)
    const all: string[] = []
    for await (const name of registry.list('**')) all.push(name)
    expect(all).toHaveLength(COUNT + 1)
    expect(all).not.toContain(FORGED)
    expect(await registry.lookup(FORGED)).toBeUndefined()
    expect(registry.status()).toMatchObject({ names: COUNT + 1, verified: COUNT + 1, pending: 0 })
    expect(registry.status().lastVerification?.skipped).toHaveLength(1)
  })

  it('a lookup racing the background verifier waits for its batch and gets a verified answer', async () => {
    const { registry, verifier } = open('race')
    await registry.start()
    // The first background batch is held at the gate: a name of it is looked up.
    while (verifier.held.length === 0) await new Promise(setImmediate)
    const name = verifier.held[0]!
    const expected = records.find((r) => r.record.name === name)!
    let answered = false
    const lookup = registry.lookup(name).then((entry) => {
      answered = true
      return entry
    })
    for (let turn = 0; turn < 20; turn++) await new Promise(setImmediate)
    expect(answered).toBe(false)
    expect(verifier.checked).not.toContain(name)
    verifier.open()
    const entry = await lookup
    expect(verifier.checked).toContain(name)
    expect(dec.decode(entry!.bytes)).toBe(dec.decode(expected.bytes))
  })

  it('sync() returns the full report once every record is checked; the index is then saved', async () => {
    const { registry, verifier } = open('report')
    const syncing = registry.sync()
    verifier.open()
    const report = await syncing
    expect(report.pending).toBeUndefined()
    expect(report.changed).toHaveLength(COUNT + 1)
    expect(report.skipped.map((s) => s.code)).toEqual(['E_SIGNATURE_INVALID'])
    expect(registry.status().lastSync?.report).toEqual(report)
    await registry.stop()
    // A restart reads the saved index: nothing pending, nothing checked again.
    const again = new GatedVerifier({ trust: [pinnedTrust(owners)] })
    const reopened = gitRegistry({ dir: join(root, 'report'), url, syncIntervalMs: 0 })({
      ...registryComponents({ trust: { owners } }),
      verifier: again,
    })
    await reopened.start()
    expect(reopened.status()).toMatchObject({ names: COUNT + 1, pending: 0 })
    expect(again.checked).toEqual([])
    await reopened.stop()
    await again.close()
  })

  it('error: a publish of a pending name is held to the seq of the record it would replace', async () => {
    const { registry } = open('publish')
    await registry.start()
    const lower = await signed(key, LAST, 3)
    await expect(registry.publish(lower)).rejects.toMatchObject({ code: 'E_PUBLISH_CONFLICT' })
    const entry = await registry.lookup(LAST)
    expect(dec.decode(entry!.bytes)).toBe(dec.decode(records.at(-1)!.bytes))
  })
})
