import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LOOKUP_TIMEOUT_MS, federatedLookup } from '../../src/registry/federatedLookup.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { controlledRegistry } from '../_helpers/controlledRegistry.js'
import { signed } from '../_helpers/records.js'

const NAME = 'acme.com/image/sharpen'

describe('federatedLookup timeouts on the injected clock', () => {
  let signer: LocalSigner
  let clock: FakeClock
  let verifier: RecordVerifier
  beforeAll(async () => {
    signer = await generateSigner()
  })
  afterEach(() => verifier.close())

  /** A hanging registry `a` and a registry `b` that holds the record, both asked on the fake clock. */
  async function twoRegistries() {
    clock = fakeClock(Date.now())
    verifier = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [signer.id] })], clock })
    const a = controlledRegistry('a')
    a.mode = 'hang'
    const b = controlledRegistry('b')
    await b.publish(await signed(signer, NAME, 1))
    return [a, b]
  }

  it('reports a registry that gives no answer within timeoutMs as timeout, and answers from the others', async () => {
    const registries = await twoRegistries()
    let settled = false
    const answer = federatedLookup(registries, NAME, { verifier, clock, timeoutMs: 200 }).finally(() => {
      settled = true
    })
    await clock.advanceAsync(199)
    expect(settled).toBe(false)
    expect(clock.pending).toBe(1) // a's timer, on the fake clock (b's was cancelled when it answered)
    await clock.advanceAsync(1)
    const { best, report } = await answer
    expect(best?.registry).toBe('b')
    expect(report).toEqual([
      { registry: 'a', status: 'timeout', error: { code: 'E_TIMEOUT', message: 'no answer within 200 ms' } },
      expect.objectContaining({ registry: 'b', status: 'found', seq: 1 }),
    ])
    expect(clock.pending).toBe(0)
  })

  it('waits DEFAULT_LOOKUP_TIMEOUT_MS when no timeout is given', async () => {
    const registries = await twoRegistries()
    const answer = federatedLookup(registries, NAME, { verifier, clock })
    await clock.advanceAsync(DEFAULT_LOOKUP_TIMEOUT_MS)
    expect((await answer).report[0]).toMatchObject({ registry: 'a', status: 'timeout' })
  })

  it('cancels the timer of every registry that answered in time', async () => {
    const registries = await twoRegistries()
    registries[0]!.mode = 'ok'
    const { report } = await federatedLookup(registries, NAME, { verifier, clock, timeoutMs: 200 })
    expect(report.map((r) => r.status)).toEqual(['not-found', 'found'])
    expect(clock.pending).toBe(0)
  })
})
