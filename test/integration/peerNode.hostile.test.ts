import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RECORDS_TOPIC, SYNC_PROTOCOL } from '../../node/limits.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { json, type RawPeer, rawLookup, rawPeer } from '../_helpers/rawPeer.js'
import { mutate, sampleDraft, signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'

describe('peer node: a hostile peer', () => {
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

  const honest = async (n: number) => {
    meshes = await Promise.all(Array.from({ length: n }, (_, i) => startPeerMesh({ signer }, i)))
    await connectAll(meshes)
    return meshes
  }
  const hostile = async (targets: readonly PeerMesh[]) => {
    const raw = await rawPeer()
    raws.push(raw)
    for (const t of targets) await raw.dial(multiaddr(t.node.addrs[0]!))
    return raw
  }
  /** A banned peer that dials again is dropped by the connection gater: it ends with no connection. */
  const refusedAgain = async (raw: RawPeer, target: PeerMesh) => {
    await raw.dial(multiaddr(target.node.addrs[0]!)).catch(() => undefined)
    await until(() => raw.getConnections(target.node.libp2p.peerId).length === 0, {
      what: 'the banned peer dropped',
    })
    expect(target.node.peers().some((p) => p.peerId === raw.peerId.toString())).toBe(false)
    expect(
      target.events.filter((e) => e.type === 'peer:connect' && e.peerId === raw.peerId.toString()),
    ).toHaveLength(1)
  }
  const rejectedFrom = (m: PeerMesh, from: string) =>
    m.events.filter((e) => e.type === 'peer:gossip' && e.outcome === 'rejected' && e.from === from)

  it('gossiping forged, oversize and rolled-back records is rejected, scored down and disconnected; honest nodes keep working', async () => {
    const [a, b, c] = (await honest(3)) as [PeerMesh, PeerMesh, PeerMesh]
    const name = 'acme.com/image/target'
    const old = await signed(signer, name, 1, { description: 'an old record kept by the attacker' })
    await a.mesh.publish({ ...sampleDraft(name), seq: 2 }, { signer })
    await until(() => [b, c].every((m) => heldSeq(m.node, name) === 2), { what: 'seq 2 everywhere' })

    const evil = await hostile([b])
    const evilId = evil.peerId.toString()
    evil.services.pubsub.subscribe(RECORDS_TOPIC)
    await until(
      () => evil.services.pubsub.getSubscribers(RECORDS_TOPIC).some((p) => p.equals(b.node.libp2p.peerId)),
      {
        what: 'the hostile peer sees b subscribed',
      },
    )
    const current = await b.mesh.resolve(name)
    const forged = mutate(
      new TextEncoder().encode(JSON.stringify(current.record)),
      (raw) => (raw.description = 'free money'),
    )
    const oversize = new Uint8Array(70_000).fill(0x20)
    for (const data of [forged, oversize, old.bytes]) await evil.services.pubsub.publish(RECORDS_TOPIC, data)

    await until(() => rejectedFrom(b, evilId).length === 3, { what: 'three rejections on b' })
    // Validated concurrently: the order of the verdicts is not the order of the messages.
    expect(
      rejectedFrom(b, evilId)
        .map((e) => e.reason)
        .sort(),
    ).toEqual(['E_RECORD_TOO_LARGE', 'E_SEQ_ROLLBACK', 'E_SIGNATURE_INVALID'])
    await until(() => !b.node.peers().some((p) => p.peerId === evilId), {
      what: 'b hung up on the hostile peer',
    })
    // Gossipsub caches scores for a moment; the retained score of the banned peer turns negative.
    await until(() => b.node.score(evilId) < 0, { what: 'a negative score for the hostile peer' })
    expect(b.events).toContainEqual(
      expect.objectContaining({ type: 'peer:offense', peer: evilId, banned: true }),
    )
    // Banned: it cannot come back.
    await refusedAgain(evil, b)
    // Nothing it sent was stored or forwarded.
    for (const m of [a, b, c]) expect(heldSeq(m.node, name)).toBe(2)
    expect(rejectedFrom(a, evilId)).toEqual([])

    await a.mesh.publish({ ...sampleDraft(name), seq: 3 }, { signer })
    await until(() => [b, c].every((m) => heldSeq(m.node, name) === 3), { what: 'honest gossip still flows' })
  })

  it('a lookup flood is rate limited, then the flooder is disconnected and banned while honest lookups go on', async () => {
    const [a, b] = (await honest(2)) as [PeerMesh, PeerMesh]
    const name = 'acme.com/image/flooded'
    await a.mesh.publish(sampleDraft(name), { signer })
    await until(() => heldSeq(b.node, name) === 1, { what: 'b holds the record' })
    const flooder = await hostile([b])
    const flooderId = flooder.peerId.toString()
    const codes = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const answer = await rawLookup(flooder, b.node.addrs[0]!, json({ v: 1, name })).catch(() => undefined)
      if (answer === undefined) break
      if (answer.header.ok === false) codes.add((answer.header.error as { code: string }).code)
    }
    expect([...codes]).toEqual(['E_PEER_RATE_LIMITED'])
    await until(() => !b.node.peers().some((p) => p.peerId === flooderId), {
      what: 'the flooder is disconnected',
    })
    expect(b.events).toContainEqual(
      expect.objectContaining({
        type: 'peer:offense',
        peer: flooderId,
        reason: 'lookup-flood',
        banned: true,
      }),
    )
    await until(() => b.node.score(flooderId) < 0, { what: 'a negative score for the flooder' })
    await refusedAgain(flooder, b)
    const records = (await rawLookup(a.node.libp2p as never, b.node.addrs[0]!, json({ v: 1, name }))).records
    expect(records).toHaveLength(1)
  })

  it('error: bad lookup requests get clear MeshError answers (malformed, wrong shape, wrong version, bad name, oversize)', async () => {
    const [a] = await honest(1)
    const client = await hostile([a!])
    const ask = async (frame: Uint8Array) => {
      const { header } = await rawLookup(client, a!.node.addrs[0]!, frame)
      expect(header).toMatchObject({ v: 1, ok: false })
      return header.error as { code: string; shortMessage: string; message: string }
    }
    expect(await ask(new TextEncoder().encode('{not json'))).toMatchObject({
      code: 'E_PEER_REQUEST_INVALID',
      shortMessage: 'Invalid lookup message: the message is not UTF-8 JSON',
    })
    expect(await ask(json([1, 2]))).toMatchObject({ code: 'E_PEER_REQUEST_INVALID' })
    expect(await ask(json({ v: 2, name: 'acme.com/x' }))).toMatchObject({
      code: 'E_PEER_VERSION_UNSUPPORTED',
      shortMessage: 'Unsupported lookup message version 2',
    })
    expect(await ask(json({ v: 1 }))).toMatchObject({
      code: 'E_PEER_REQUEST_INVALID',
      shortMessage: 'Invalid lookup message: give exactly one of "name" or "pattern"',
    })
    expect(await ask(json({ v: 1, name: 'Not A Name!' }))).toMatchObject({ code: 'E_NAME_INVALID' })
    expect(await ask(json({ v: 1, pattern: 'acme.com/<script>' }))).toMatchObject({
      code: 'E_PATTERN_INVALID',
    })
    const big = await ask(json({ v: 1, name: 'x'.repeat(100_000) }))
    expect(big).toMatchObject({
      code: 'E_PEER_MESSAGE_TOO_LARGE',
      shortMessage: 'A lookup message exceeded 65536 bytes',
    })
    expect(big.message).toContain('Split the request')
    // The sync protocol answers its own bad requests the same way.
    const sync = async (message: unknown) => {
      const stream = await client.dialProtocol(multiaddr(a!.node.addrs[0]!), SYNC_PROTOCOL)
      const lp = lpStream(stream)
      await lp.write(json(message))
      const answer = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as Record<
        string,
        unknown
      >
      await stream.close().catch(() => undefined)
      return answer
    }
    expect(await sync({ v: 1, op: 'push' })).toMatchObject({
      ok: false,
      error: { code: 'E_PEER_REQUEST_INVALID' },
    })
    expect(await sync({ v: 1, op: 'summary', digests: ['x'] })).toMatchObject({
      ok: false,
      error: {
        code: 'E_PEER_REQUEST_INVALID',
        shortMessage: 'Invalid sync message: "digests" must be 256 strings',
      },
    })
    expect(await sync({ v: 3, op: 'done' })).toMatchObject({
      ok: false,
      error: { code: 'E_PEER_VERSION_UNSUPPORTED' },
    })
    // A well-formed pattern lookup still works for the same client.
    await a!.mesh.publish(sampleDraft('acme.com/image/one'), { signer })
    const { header, records } = await rawLookup(
      client,
      a!.node.addrs[0]!,
      json({ v: 1, pattern: 'acme.com/**' }),
    )
    expect(header).toMatchObject({ v: 1, ok: true, records: 1 })
    expect(records).toHaveLength(1)
  })
})
