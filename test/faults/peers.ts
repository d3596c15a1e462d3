// Fault: a peer partitioned from the others, records published meanwhile, then the peer rejoins.
// Real libp2p peer nodes on 127.0.0.1. The partitioned peer misses the gossip; once it dials back
// and runs anti-entropy it holds every record published while it was away (none lost), and after
// that sync it never serves an older seq (none stale).
import '../../src/_polyfill.js'
import { generateSigner } from '../../src/trust/signer.js'
import { closePeerMeshes, connectAll, heldSeq, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { sampleDraft } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'
import type { FaultReport } from './_audit.js'

export async function peerPartitionFault(
  options: { names?: number; rounds?: number } = {},
): Promise<FaultReport> {
  const names = Array.from({ length: options.names ?? 5 }, (_, i) => `acme.com/part/n${i}`)
  const rounds = options.rounds ?? 2
  const signer = await generateSigner()
  const problems: string[] = []
  let lost = 0
  let staleServed = 0
  let calls = 0
  let meshes: PeerMesh[] = []
  try {
    meshes = await Promise.all(Array.from({ length: 3 }, (_, i) => startPeerMesh({ signer }, i)))
    await connectAll(meshes)
    const [a, b, c] = meshes as [PeerMesh, PeerMesh, PeerMesh]
    let seq = 1
    for (const name of names) await a.mesh.publish({ ...sampleDraft(name), seq }, { signer })
    await until(() => names.every((n) => heldSeq(c.node, n) === seq), { what: 'first records everywhere' })
    for (let round = 0; round < rounds; round++) {
      // Partition c: drop its connections both ways.
      for (const other of [a, b]) {
        await c.node.libp2p.hangUp(other.node.libp2p.peerId)
        await other.node.libp2p.hangUp(c.node.libp2p.peerId)
      }
      await until(() => c.node.libp2p.getConnections().length === 0, { what: 'c partitioned' })
      seq++
      for (const name of names) await a.mesh.publish({ ...sampleDraft(name), seq }, { signer })
      await until(() => names.every((n) => heldSeq(b.node, n) === seq), { what: 'b has the new seqs' })
      const missed = names.filter((n) => heldSeq(c.node, n) !== seq).length
      if (c.node.libp2p.getConnections().length > 0)
        problems.push(`round ${round}: the partition did not hold`)
      // Rejoin: dial one node, run anti-entropy.
      await c.node.dial(b.node.addrs[0]!)
      await c.node.sync()
      for (const name of names) {
        calls++
        if (heldSeq(c.node, name) !== seq) {
          lost++
          problems.push(
            `round ${round}: after rejoining, c holds ${name} at seq ${heldSeq(c.node, name)}, not ${seq}`,
          )
        }
        const answer = await c.mesh.resolve(name, { cache: 'refresh' }).catch((err: Error) => err)
        if (answer instanceof Error)
          problems.push(`round ${round}: c cannot resolve ${name}: ${answer.message}`)
        else if (answer.record.seq < seq) {
          staleServed++
          problems.push(
            `round ${round}: c serves ${name} at seq ${answer.record.seq} after syncing seq ${seq}`,
          )
        }
      }
      if (missed === 0)
        problems.push(`round ${round}: c got the new seqs while partitioned (the fault was not applied)`)
      await connectAll(meshes)
    }
    return {
      fault: 'peer partitioned and rejoining',
      checked: `3 libp2p nodes; ${rounds} times the third was cut off while ${names.length} records got a new seq, then rejoined and synced`,
      calls,
      lost,
      doubleCharges: 0,
      brokeDeadline: 0,
      staleServed,
      problems,
    }
  } finally {
    await closePeerMeshes(meshes)
  }
}
