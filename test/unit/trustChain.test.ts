import { describe, expect, it } from 'vitest'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { generateSigner } from '../../src/trust/signer.js'
import { TrustChain } from '../../src/trust/trustChain.js'
import { trustSources } from '../../src/trust/trustInit.js'
import type { TrustSource } from '../../src/trust/types.js'
import { rejection } from '../_helpers/rejection.js'

/** A source that knows only the namespaces in `table` and records every question. */
function source(id: string, table: Record<string, string[]>, asked: string[]): TrustSource {
  return {
    id,
    publishersOf: async (namespace) => {
      asked.push(`${id}:${namespace}`)
      return table[namespace]
    },
  }
}

describe('TrustChain', () => {
  it('asks registries’ sources first, in the order they were added, then the configured ones', async () => {
    const asked: string[] = []
    const chain = new TrustChain([source('pinned', { 'acme.com': ['k-pinned'] }, asked)])
    chain.addRegistrySource(source('chain-1', {}, asked))
    chain.addRegistrySource(source('chain-2', { 'beta.org': ['k-chain-2'] }, asked))
    expect(chain.sources.map((s) => s.id)).toEqual(['chain-1', 'chain-2', 'pinned'])
    expect(await chain.publishersOf('beta.org')).toEqual(['k-chain-2'])
    expect(asked).toEqual(['chain-1:beta.org', 'chain-2:beta.org'])
  })

  it('keeps every configured source after all registry sources, however many of each', () => {
    const chain = new TrustChain([source('pinned-1', {}, []), source('pinned-2', {}, [])])
    for (const id of ['chain-1', 'chain-2', 'chain-3']) chain.addRegistrySource(source(id, {}, []))
    expect(chain.sources.map((s) => s.id)).toEqual(['chain-1', 'chain-2', 'chain-3', 'pinned-1', 'pinned-2'])
  })

  it('falls through a source that does not know a namespace to the next one, and answers undefined when none does', async () => {
    const asked: string[] = []
    const chain = new TrustChain([source('pinned', { 'acme.com': ['k-pinned'] }, asked)])
    chain.addRegistrySource(source('chain', { 'beta.org': [] }, asked))
    expect(await chain.publishersOf('acme.com')).toEqual(['k-pinned'])
    expect(asked).toEqual(['chain:acme.com', 'pinned:acme.com'])
    // A source that knows a namespace with no keys answers for it: the configured owners never apply.
    expect(await chain.publishersOf('beta.org')).toEqual([])
    expect(await chain.publishersOf('gamma.net')).toBeUndefined()
  })
})

describe('pinnedTrust', () => {
  it('answers by lowercased namespace, and undefined for one it does not pin', async () => {
    const key = await generateSigner()
    const pinned = pinnedTrust({ 'Acme.com': [key.id] })
    expect(pinned.id).toBe('pinned')
    expect(await pinned.publishersOf('acme.com')).toEqual([key.id])
    expect(await pinned.publishersOf('beta.org')).toBeUndefined()
  })

  it('error: pins the messages of owners that are not a list of did:keys', async () => {
    const notAList = await rejection(Promise.resolve().then(() => pinnedTrust({ 'acme.com': 'k' as never })))
    expect(notAList.message).toMatchInlineSnapshot(`
      "Invalid configuration at trust.owners["acme.com"]: must be an array of key ids
        path: trust.owners["acme.com"]
        rule: must be an array of key ids

      Fix the option named above; see the README for the configuration reference."
    `)
    const notAKey = await rejection(Promise.resolve().then(() => pinnedTrust({ 'acme.com': ['not-a-key'] })))
    expect(notAKey.message).toMatchInlineSnapshot(`
      "Invalid configuration at trust.owners["acme.com"][0]: must be an ed25519 did:key (see \`fmesh keys new\`)
        path: trust.owners["acme.com"][0]
        rule: must be an ed25519 did:key (see \`fmesh keys new\`)

      Fix the option named above; see the README for the configuration reference."
    `)
  })
})

describe('trustSources (the trust option of createMesh)', () => {
  const custom: TrustSource = { id: 'custom', publishersOf: async () => undefined }

  it('takes pinned owners, one source, or several in order (a copy of the list)', async () => {
    const key = await generateSigner()
    expect(trustSources(undefined)).toEqual([])
    const [pinned, ...rest] = trustSources({ owners: { 'acme.com': [key.id] } })
    expect(rest).toEqual([])
    expect(pinned!.id).toBe('pinned')
    expect(await pinned!.publishersOf('acme.com')).toEqual([key.id])
    expect(trustSources(custom)).toEqual([custom])
    const list = [custom, pinnedTrust({})]
    const sources = trustSources(list)
    expect(sources).toEqual(list)
    expect(sources).not.toBe(list)
  })

  it('error: E_CONFIG_INVALID naming the field and the rule for anything else', () => {
    const shape = 'must be { owners: { namespace: [keyId] } } or trust sources'
    const noSource = 'is not a trust source (no publishersOf method)'
    const cases: [unknown, string, string][] = [
      [null, 'trust', shape],
      ['yes', 'trust', shape],
      [{}, 'trust', shape],
      [{ publishersOf: 'no' }, 'trust', shape],
      [{ owners: null }, 'trust.owners', 'must be an object'],
      [{ owners: 'acme.com' }, 'trust.owners', 'must be an object'],
      [[custom, null], 'trust[1]', noSource],
      [[custom, 'x'], 'trust[1]', noSource],
      [[{ id: 'half' }], 'trust[0]', noSource],
    ]
    for (const [trust, path, rule] of cases)
      expect(() => trustSources(trust as never), JSON.stringify(trust)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG_INVALID', details: { path, rule } }),
      )
  })
})
