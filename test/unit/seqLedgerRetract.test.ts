import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileSeqLedger } from '../../src/trust/fileSeqLedger.js'
import { memorySeqLedger, type SeqLedger } from '../../src/trust/SeqLedger.js'

// SeqLedger.retract: a chain reorg takes back the anchored seq it fed, unless a higher one came since.

const cases: [string, () => { ledger: SeqLedger; done?: () => void }][] = [
  ['memorySeqLedger', () => ({ ledger: memorySeqLedger() })],
  [
    'fileSeqLedger',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'fmesh-seq-'))
      return { ledger: fileSeqLedger(join(dir, 'seq.json')), done: () => rmSync(dir, { recursive: true }) }
    },
  ],
]

describe.each(cases)('%s.retract', (_, make) => {
  it('lowers the highest seq to the floor only while it is the retracted one; no floor removes it', async () => {
    const { ledger, done } = make()
    ledger.accept('acme.com/a', 2)
    ledger.retract!('acme.com/a', 2, 1)
    expect(ledger.highest('acme.com/a')).toBe(1)
    ledger.accept('acme.com/a', 3)
    ledger.retract!('acme.com/a', 2, 1) // 3 came from elsewhere since: it stays
    expect(ledger.highest('acme.com/a')).toBe(3)
    ledger.retract!('acme.com/a', 3, 0)
    expect(ledger.highest('acme.com/a')).toBeUndefined()
    await ledger.flush?.()
    done?.()
  })
})

it('fileSeqLedger writes a retraction to its file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-seq-'))
  const file = join(dir, 'seq.json')
  const ledger = fileSeqLedger(file)
  ledger.accept('acme.com/a', 5)
  ledger.retract?.('acme.com/a', 5, 4)
  await ledger.flush()
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'acme.com/a': 4 })
  expect(fileSeqLedger(file).highest('acme.com/a')).toBe(4)
  rmSync(dir, { recursive: true })
})
