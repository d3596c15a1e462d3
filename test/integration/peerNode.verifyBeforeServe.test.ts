import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LOOKUP_PROTOCOL, SYNC_PROTOCOL } from '../../node/limits.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { json, type RawPeer, rawLookup, rawPeer } from '../_helpers/rawPeer.js'
import { mutate, signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'

const text = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>

/**
 * A peer that holds `records` (name -> bytes, forged or not) and serves them by the sync protocol
 * (its summary names them all at seq 9) and the lookup protocol, as a node of ours would.
 */
async function servingPeer(records: ReadonlyMap<string, Uint8Array>): Promise<RawPeer> {
  const peer = await rawPeer()
  await peer.handle(SYNC_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: 1 << 20 })
    for (;;) {
      const message = text((await lp.read()).subarray())
      if (message.op === 'summary')
        await lp.write(json({ v: 1, ok: true, entries: [...records.keys()].map((n) => [n, 9]), next: null }))
      else if (message.op === 'pull') {
        const names = message.names as string[]
        const found = names.flatMap((n) => (records.has(n) ? [records.get(n)!] : []))
        await lp.writeV([json({ v: 1, ok: true, records: found.length, consumed: names.length }), ...found])
      } else break
    }
    await stream.close().catch(() => undefined)
  })
  await peer.handle(LOOKUP_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: 1 << 20 })
    const { name } = text((await lp.read()).subarray()) as { name?: string }
    const found = name !== undefined && records.has(name) ? [records.get(name)!] : []
    await lp.writeV([json({ v: 1, ok: true, records: found.length }), ...found])
    await stream.close().catch(() => undefined)
  })
  return peer
}

describe('peer node: verify before serve', () => {
  let signer: LocalSigner
  let meshes: PeerMesh[] = []
  let raws: RawPeer[] = []
  beforeAll(async () => {
    signer = await generateSigner()
  })
  afterEach(async () => {
    await Promise.all(raws.map((r) => r.stop()))
    await closePeerMeshes(meshes)
    meshes = []
    raws = []
  })

  const forge = async (name: string) =>
    mutate((await signed(signer, name, 9)).bytes, (raw) => {
      raw.description = 'forged: the signature is over other bytes'
    })

  it('a record with a forged signature that arrives by anti-entropy sync is never stored, and so never served to a peer, by sync, or to the Resolver', async () => {
    // b syncs when the test says so; c catches up with b on connect.
    meshes = await Promise.all(
      [0, 1].map((i) => startPeerMesh({ signer, node: () => ({ syncOnConnect: i === 1 }) }, i)),
    )
    const [b, c] = meshes as [PeerMesh, PeerMesh]
    const good = 'acme.com/sync/good'
    const bad = 'acme.com/sync/forged'
    const evil = await servingPeer(
      new Map([
        [good, (await signed(signer, good, 9)).bytes],
        [bad, await forge(bad)],
      ]),
    )
    raws.push(evil)
    await b.node.dial(evil.getMultiaddrs()[0]!.toString())
    const [report] = await b.node.sync(evil.peerId.toString())
    // The valid record of the batch is taken; the forged one is refused and counted against the sender.
    expect(report).toMatchObject({ wanted: 2, accepted: 1, refused: 1 })
    expect(b.events).toContainEqual(
      expect.objectContaining({
        type: 'peer:offense',
        peer: evil.peerId.toString(),
        reason: 'sync:E_SIGNATURE_INVALID',
      }),
    )
    expect(heldSeq(b.node, good)).toBe(9)
    expect(heldSeq(b.node, bad)).toBeUndefined()

    // Served to no one: a peer's lookup, a peer's sync, and b's own resolver.
    const asker = await rawPeer()
    raws.push(asker)
    const answered = await rawLookup(asker, b.node.addrs[0]!, json({ v: 1, name: bad }))
    expect(answered.header).toMatchObject({ v: 1, ok: true, records: 0 })
    expect((await rawLookup(asker, b.node.addrs[0]!, json({ v: 1, name: good }))).records).toHaveLength(1)
    await connectAll([b, c])
    await until(() => heldSeq(c.node, good) === 9, { what: 'c caught up with b' })
    await c.node.sync(b.node.peerId)
    expect(heldSeq(c.node, bad)).toBeUndefined()
    await expect(b.mesh.resolve(bad)).rejects.toMatchObject({ code: 'E_FUNCTION_NOT_FOUND' })
  })

  it('a forged record that answers a lookup is refused and never served onward', async () => {
    meshes = [await startPeerMesh({ signer, node: () => ({ syncOnConnect: false }) }, 0)]
    const [b] = meshes as [PeerMesh]
    const bad = 'acme.com/lookup/forged'
    const evil = await servingPeer(new Map([[bad, await forge(bad)]]))
    raws.push(evil)
    await b.node.dial(evil.getMultiaddrs()[0]!.toString())
    await until(() => b.node.peers().length === 1, { what: 'b connected to the serving peer' })
    expect(await b.node.registry.lookup(bad)).toBeUndefined()
    await until(
      () =>
        b.events.some((e) => e.type === 'peer:offense' && e.reason === 'lookup-answer:E_SIGNATURE_INVALID'),
      { what: 'the forged answer counted against its sender' },
    )
    expect(heldSeq(b.node, bad)).toBeUndefined()
    const asker = await rawPeer()
    raws.push(asker)
    const answered = await rawLookup(asker, b.node.addrs[0]!, json({ v: 1, name: bad }))
    expect(answered.header).toMatchObject({ v: 1, ok: true, records: 0 })
    expect(answered.records).toEqual([])
  })
})
