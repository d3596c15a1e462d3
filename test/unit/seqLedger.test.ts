import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createMesh } from '../../src/mesh.js'
import { fileSeqLedger } from '../../src/trust/fileSeqLedger.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
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

  it('error: names the file and why it is corrupt; seq 0 is a seq, -1, 1.5, a list or null are not', async () => {
    const dir = join(await tempFile(), '..')
    await mkdir(dir, { recursive: true })
    const write = async (name: string, text: string) => {
      await writeFile(join(dir, name), text)
      return join(dir, name)
    }
    expect(fileSeqLedger(await write('zero.json', '{"a/b": 0}')).highest('a/b')).toBe(0)
    for (const [name, text, reason] of [
      ['negative.json', '{"a/b": -1}', 'bad seq for a/b'],
      ['fraction.json', '{"a/b": 1.5}', 'bad seq for a/b'],
      ['list.json', '[1]', 'not an object'],
      ['null.json', 'null', 'not an object'],
      ['number.json', '5', 'not an object'],
    ] as const) {
      const path = await write(name, text)
      expect(() => fileSeqLedger(path), name).toThrow(
        expect.objectContaining({
          code: 'E_SEQ_LEDGER_CORRUPT',
          message: expect.stringMatching(new RegExp(`^The seq ledger ${path} is corrupt\n`)),
          details: { path, reason },
          hint: 'Move the file aside: the mesh then trusts the highest seq it sees next (no rollback check until then).',
        }),
      )
    }
    // A path that cannot be read (a directory) is another refusal than a corrupt file.
    expect(() => fileSeqLedger(dir)).toThrow(
      expect.objectContaining({
        code: 'E_SEQ_LEDGER_READ',
        message: expect.stringMatching(new RegExp(`^Cannot read the seq ledger ${dir}\n`)),
        details: { path: dir },
      }),
    )
  })

  it('writes an accept or a retraction within the tick, without waiting for flush', async () => {
    const file = await tempFile()
    const ledger = fileSeqLedger(file)
    ledger.accept('a/b', 3)
    await Promise.resolve()
    expect(fileSeqLedger(file).highest('a/b')).toBe(3)
    ledger.retract!('a/b', 3, 2)
    await Promise.resolve()
    expect(fileSeqLedger(file).highest('a/b')).toBe(2)
  })

  it('writes nothing until a seq is accepted, and leaves no temporary file behind', async () => {
    const file = await tempFile()
    const ledger = fileSeqLedger(file)
    await ledger.flush()
    expect(existsSync(file)).toBe(false)
    ledger.accept('a/b', 1)
    ledger.accept('a/b', 1)
    await ledger.flush()
    expect(await readdir(join(file, '..'))).toEqual(['seq.json'])
    expect(fileSeqLedger(file).highest('a/b')).toBe(1)
  })
})

describe('memorySeqLedger', () => {
  it('keeps only increases; a retraction applies only to the current highest seq', () => {
    const ledger = memorySeqLedger()
    expect(ledger.highest('a/b')).toBeUndefined()
    ledger.accept('a/b', 2)
    ledger.accept('a/b', 1)
    expect(ledger.highest('a/b')).toBe(2)
    ledger.accept('a/b', 3)
    expect(ledger.highest('a/b')).toBe(3)
    ledger.retract!('a/b', 2, 1)
    expect(ledger.highest('a/b')).toBe(3)
    ledger.retract!('a/b', 3)
    expect(ledger.highest('a/b')).toBeUndefined()
    ledger.accept('a/b', 4)
    ledger.retract!('a/b', 4, -1)
    expect(ledger.highest('a/b')).toBeUndefined()
  })
})
