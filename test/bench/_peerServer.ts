import '../../src/_polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { type PeerNode, peerNode } from '../../node/index.js'
import { createMesh } from '../../src/mesh.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { generateSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'

// The serving side of peer.bench.ts's catch-up and lookup figures, in its own process (as a peer
// is on another machine): a peer node holding COUNT signed records, and a raw transfer protocol that
// writes the same bytes on one stream. Prints { addr, keyId, bytes } once ready; stops on SIGTERM.
// Usage: _peerServer.ts COUNT RAW_PROTOCOL
const count = Number(process.argv[2])
const rawTransfer = process.argv[3]!
const signer = await generateSigner()
const dir = await mkdtemp(join(tmpdir(), 'fmesh-peer-bench-server-'))
let node: PeerNode | undefined
const factory = peerNode({
  syncIntervalMs: 0,
  syncOnConnect: false,
  limits: { lookupsPerSecond: 1_000_000, syncsPerSecond: 1000 },
})
const mesh = await createMesh({
  services: [
    async (c) => {
      node = await factory(c)
      return node
    },
  ],
  trust: { owners: { 'bench.example': [signer.id] } },
  dataDir: dir,
})
const records: EncodedRecord[] = []
for (let i = 0; i < count; i++) records.push(await signed(signer, `bench.example/set/fn-${i}`, 1))
for (const record of records) await node!.registry.publish(record)
await node!.libp2p.handle(rawTransfer, async (stream) => {
  const lp = lpStream(stream)
  await lp.writeV(records.map((r) => r.bytes))
  await stream.close()
})
process.stdout.write(
  `${JSON.stringify({ addr: node!.addrs[0], keyId: signer.id, bytes: records.reduce((n, r) => n + r.bytes.byteLength, 0) })}\n`,
)
process.once('SIGTERM', async () => {
  await mesh.close()
  await rm(dir, { recursive: true, force: true })
  process.exit(0)
})
