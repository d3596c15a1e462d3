import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createMesh } from '../../src/mesh.js'
import { fileSeqLedger } from '../../src/trust/fileSeqLedger.js'
import { generateSigner } from '../../src/trust/signer.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { controlledRegistry } from '../_helpers/controlledRegistry.js'
import { signed } from '../_helpers/records.js'

describe('fileSeqLedger', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const tempFile = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fmesh-seq-'))
    dirs.push(dir)
    return join(dir, 'nested', 'seq.json')
  }

  it('refuses a rollback after a restart: the highest seq survives in the file', async () => {
    const file = await tempFile()
    const signer = await generateSigner()
    const registry = controlledRegistry('r')
    const trust = { owners: { 'acme.com': [signer.id] } }
    registry.put('acme.com/image/sharpen', (await signed(signer, 'acme.com/image/sharpen', 7)).bytes)
    const first = closeAfter(
      await createMesh({ registries: [registry], trust, seqLedger: fileSeqLedger(file) }),
    )
    expect((await first.resolve('acme.com/image/sharpen')).record.seq).toBe(7)
    await first.close()

    registry.put('acme.com/image/sharpen', (await signed(signer, 'acme.com/image/sharpen', 3)).bytes)
    const second = closeAfter(
      await createMesh({ registries: [registry], trust, seqLedger: fileSeqLedger(file) }),
    )
    await expect(second.resolve('acme.com/image/sharpen')).rejects.toMatchObject({
      code: 'E_NO_VALID_RECORD',
      cause: expect.objectContaining({ code: 'E_SEQ_ROLLBACK' }),
    })
    await second.close()
  })

  it('keeps only increases and writes once per batch of accepts', async () => {
    const file = await tempFile()
    const ledger = fileSeqLedger(file)
    ledger.accept('a/b', 2)
    ledger.accept('a/b', 1)
    ledger.accept('a/c', 5)
    await ledger.flush()
    const again = fileSeqLedger(file)
    expect([again.highest('a/b'), again.highest('a/c'), again.highest('a/d')]).toEqual([2, 5, undefined])
  })

  it('error: a corrupt file is a clear MeshError, not a crash', async () => {
    const file = await tempFile()
    await writeFile(join(file, '..', '..', 'bad.json'), '{"a/b": -1}')
    expect(() => fileSeqLedger(join(file, '..', '..', 'bad.json'))).toThrow(
      expect.objectContaining({ code: 'E_SEQ_LEDGER_CORRUPT' }),
    )
    await writeFile(join(file, '..', '..', 'garbage.json'), 'not json')
    expect(() => fileSeqLedger(join(file, '..', '..', 'garbage.json'))).toThrow(
      expect.objectContaining({ code: 'E_SEQ_LEDGER_CORRUPT' }),
    )
  })
})
