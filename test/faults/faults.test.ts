// The fast parts of the fault run (`npm run faults` runs them larger, with the crash soak and the
// gathered fault tests). Each must report zero lost data, double charges, deadline breaks and stale
// answers. The crash soak's fast part is test/ledger/crash.test.ts.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isMeshError } from '../../src/errors/base.js'
import { openLedger } from '../../src/ledger/Ledger.js'
import { createMesh } from '../../src/mesh.js'
import { upperFunction } from '../_helpers/upper.js'
import { auditLedger, type FaultReport } from './_audit.js'
import { diskFullFault } from './diskFull.js'
import { peerPartitionFault } from './peers.js'
import { providerFaults } from './providers.js'
import { cacheFlappingFault, gitFlappingFault } from './registries.js'

const zero = (r: FaultReport) => {
  expect(r.problems, r.fault).toEqual([])
  expect({
    lost: r.lost,
    doubleCharges: r.doubleCharges,
    brokeDeadline: r.brokeDeadline,
    staleServed: r.staleServed,
  }).toEqual({
    lost: 0,
    doubleCharges: 0,
    brokeDeadline: 0,
    staleServed: 0,
  })
  expect(r.calls).toBeGreaterThan(0)
}

describe('faults (fast parts)', () => {
  it('the ledger audit counts a result the ledger lacks as lost and a charge no result accounts for as double', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmesh-audit-'))
    try {
      const path = join(dir, 'ledger.sqlite')
      const mesh = await createMesh({ ledger: { path }, dataDir: join(dir, 'data') })
      upperFunction('5').register(mesh.marketplace)
      const a = await mesh.call('acme.com/text/upper', { text: 'a' })
      const b = await mesh.call('acme.com/text/upper', { text: 'b' })
      await mesh.close()
      expect(await auditLedger(path, [a.invocationId, b.invocationId])).toMatchObject({
        lost: 0,
        doubleCharges: 0,
        problems: [],
      })
      expect(await auditLedger(path, [a.invocationId, b.invocationId, 'inv-never'])).toMatchObject({
        lost: 1,
        doubleCharges: 0,
      })
      expect(await auditLedger(path, [a.invocationId])).toMatchObject({ lost: 0, doubleCharges: 1 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('ledger disk full: the call fails with E_LEDGER_WRITE, later writes are refused, the reopened ledger verifies with one charge per result', async () => {
    zero(await diskFullFault())
  })

  it('ledger maxSizeBytes: a bad value is refused with E_LEDGER_OPEN', async () => {
    for (const maxSizeBytes of [0, -1, 1.5, Number.NaN, '1' as unknown as number]) {
      const err = await openLedger({ path: ':memory:', maxSizeBytes }).catch((e: unknown) => e)
      expect(isMeshError(err, 'E_LEDGER_OPEN'), String(maxSizeBytes)).toBe(true)
    }
  })

  it('providers slow, failing, hanging, flapping, answering garbage: every call settles, charges match results', async () => {
    zero(await providerFaults({ rounds: 1 }))
  })

  it('a registry failing, hanging or flapping behind the cache: no answer past TTL + stale-if-error, no resolve past its deadline', async () => {
    zero(await cacheFlappingFault({ steps: 100 }))
  })

  it('a real git server down between publishes: the reader serves its last index and catches up', async () => {
    zero(await gitFlappingFault({ rounds: 3 }))
  }, 60_000)

  it('a peer partitioned and rejoining gets every record published meanwhile and serves no older seq', async () => {
    zero(await peerPartitionFault({ rounds: 1, names: 3 }))
  }, 60_000)
})
