import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceComponents } from '../components.js'
import { MeshError } from '../errors/base.js'
import { createMesh, type Mesh } from '../mesh.js'
import type { RecordDraft } from '../record/schema.js'
import type { Signer } from '../trust/signer.js'
import type { Output } from './_output.js'

/** What the peer part of the demo did, as returned with --json. */
export interface DemoPeers {
  nodes: string[]
  /** Milliseconds from publish on node 1 until node 3 holds the verified record. */
  propagationMs: number
  call: { output: unknown; provider: string; callerInvocation: string; hostInvocation: string | undefined }
  /** Milliseconds from the yank on node 1 until node 3 no longer serves the yanked version. */
  yankMs: number
  /** What node 3 answers for `acme.com/text/shout@^1` after the yank. */
  afterYank: string
  /** What nodes 1 and 3 (the ones that do not host it) answer for `acme.com/text/shout@^1` after the yank. */
  afterYankByNode: string[]
  /** Per node, whether its peer store holds the yanking seq. */
  yankReached: boolean[]
}

interface DemoNode {
  mesh: Mesh
  node: {
    peerId: string
    addrs: readonly string[]
    dial(addr: string): Promise<string>
    libp2p: { services: unknown }
    store: { get(name: string): { seq: number } | undefined }
  }
  accepted(name: string, seq: number): Promise<void>
  meshPeers(): number
}

/** Resolves once `check` holds, re-checking on every peer event; rejects after `ms`. */
function waitFor(mesh: Mesh, what: string, check: () => boolean, ms = 10_000): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const done = (err?: MeshError) => {
      clearTimeout(timer)
      clearInterval(poll)
      off()
      if (err === undefined) resolve()
      else reject(err)
    }
    const timer = setTimeout(
      () => done(new MeshError('E_TIMEOUT', `The demo waited ${ms} ms for ${what}`)),
      ms,
    )
    // A peer event usually says when to look again; the interval covers state that changes after it.
    const poll = setInterval(() => check() && done(), 5)
    const off = mesh.events.on('service', () => check() && done())
  })
}

/**
 * Three peer nodes on 127.0.0.1 in one process: a record published on node 1 reaches node 3 by
 * gossip, verified on the way; node 3 calls a function node 2 hosts, over libp2p; a yank on node 1
 * stops every node serving that version at once.
 */
export async function runPeerSteps(out: Output, publisher: Signer): Promise<DemoPeers> {
  // Loaded here: the peer node (libp2p) is loaded only when the demo reaches this part.
  const { peerNode, RECORDS_TOPIC } = await import('../../node/index.js')
  const root = await mkdtemp(join(tmpdir(), 'fmesh-demo-peers-'))
  const trust = { owners: { 'acme.com': [publisher.id] } }
  const nodes: DemoNode[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const make = peerNode({ syncIntervalMs: 0 })
      let made: Awaited<ReturnType<ReturnType<typeof peerNode>>> | undefined
      const mesh = await createMesh({
        services: [async (c: ServiceComponents) => (made = await make(c))],
        trust,
        dataDir: join(root, `node-${i + 1}`),
      })
      const node = made!
      nodes.push({
        mesh,
        node,
        accepted: (name, seq) =>
          waitFor(mesh, `${name} seq ${seq} on node ${i + 1}`, () => (node.store.get(name)?.seq ?? 0) >= seq),
        meshPeers: () =>
          (
            node.libp2p.services as { pubsub: { getMeshPeers(topic: string): unknown[] } }
          ).pubsub.getMeshPeers(RECORDS_TOPIC).length,
      })
    }
    const [one, two, three] = nodes as [DemoNode, DemoNode, DemoNode]
    // A line, 1 - 2 - 3: what node 1 publishes reaches node 3 only through node 2.
    await one.node.dial(two.node.addrs[0]!)
    await two.node.dial(three.node.addrs[0]!)
    // Gossip flows through each node's mesh for the records topic: wait until the mesh is formed.
    await Promise.all(
      nodes.map((n, i) =>
        waitFor(n.mesh, `node ${i + 1}'s gossip mesh`, () => n.meshPeers() >= (i === 1 ? 2 : 1)),
      ),
    )
    out.line(`peers    3 libp2p nodes on 127.0.0.1, connected 1 - 2 - 3`)
    for (const [i, n] of nodes.entries()) out.line(`         node ${i + 1} ${n.node.peerId}`)

    for (const version of ['1.0.0', '1.1.0'])
      two.mesh.marketplace.register(
        {
          name: 'acme.com/text/shout',
          version,
          description: 'Shouts',
          cost: { unit: 'USDC', baseUnits: '700' },
        },
        (input: { text: string }) => ({ text: `${input.text.toUpperCase()}!` }),
      )
    const descriptor = {
      maxRisk: 'read-only' as const,
      idempotency: 'idempotent' as const,
      allowedByDefault: true,
      inputSchema: { type: 'object', required: ['text'] },
    }
    const provider = {
      id: 'node-2',
      endpoint: `libp2p:/p2p/${two.node.peerId}`,
      cost: { unit: 'USDC', baseUnits: '700' },
    }
    const record: RecordDraft = {
      name: 'acme.com/text/shout',
      latestVersion: '1.1.0',
      versions: {
        '1.0.0': { descriptor, providers: [provider] },
        '1.1.0': { descriptor, providers: [provider] },
      },
    }
    const started = performance.now()
    const published = await one.mesh.publish(record, { signer: publisher })
    await three.accepted(published.name, published.seq)
    const propagationMs = performance.now() - started
    out.line(
      `gossip   ${published.name.padEnd(32)} seq ${published.seq} published on node 1, verified and stored on node 3 in ${propagationMs.toFixed(1)} ms`,
    )

    const call = await three.mesh.call<{ text: string }>(
      'acme.com/text/shout@^1',
      { text: 'over libp2p' },
      {
        context: { level: 'full' },
      },
    )
    const completed = (await three.mesh.lineage.entries(call.invocationId)).find(
      (e) => e.entry.type === 'FUNCTION_COMPLETED',
    )?.entry as { providerInvocation?: string } | undefined
    out.line(
      `call     ${'acme.com/text/shout@^1'.padEnd(32)} from node 3 ran on node 2: ${JSON.stringify(call.output)}, ${call.charge.amount} ${call.charge.currency}`,
    )
    out.line(
      `         lineage on node 3 ${call.invocationId}, on node 2 ${completed?.providerInvocation ?? '(not reported)'}`,
    )

    // Each node drops its cached answer when its peer registry reports the new record.
    const dropped = nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          const off = n.mesh.events.on('change', (e) => {
            if (!e.names.includes(record.name)) return
            off()
            resolve()
          })
        }),
    )
    const yankStarted = performance.now()
    const yanked = await one.mesh.publish(
      {
        ...record,
        versions: { ...record.versions, '1.1.0': { descriptor, providers: [provider], yanked: true } },
      },
      { signer: publisher },
    )
    await Promise.all([two.accepted(yanked.name, yanked.seq), three.accepted(yanked.name, yanked.seq)])
    // Node 1 published it itself; nodes 2 and 3 learn of it by gossip.
    await Promise.all(dropped.slice(1))
    // Every node now holds the yanking seq; nodes 1 and 3 resolve ^1 to 1.0.0 at once (node 2 answers
    // from the handlers it hosts itself, so it is asked what its peer store holds).
    const yankReached = nodes.map((n) => (n.node.store.get(record.name)?.seq ?? 0) >= yanked.seq)
    const afterYankByNode = await Promise.all(
      [one, three].map(async (n) => (await n.mesh.resolve('acme.com/text/shout@^1')).version),
    )
    const after = { version: afterYankByNode[1]! }
    const yankMs = performance.now() - yankStarted
    out.line(
      `yank     ${'acme.com/text/shout@1.1.0'.padEnd(32)} on node 1: seq ${yanked.seq} held by nodes ${nodes
        .map((_, i) => i + 1)
        .filter((i) => yankReached[i - 1])
        .join(
          ', ',
        )}; nodes 1 and 3 now answer ^1 with ${afterYankByNode.join(' and ')}, ${yankMs.toFixed(1)} ms later (not one TTL)`,
    )
    out.line()
    return {
      nodes: nodes.map((n) => n.node.peerId),
      propagationMs,
      call: {
        output: call.output,
        provider: call.provider.id,
        callerInvocation: call.invocationId,
        hostInvocation: completed?.providerInvocation,
      },
      yankMs,
      afterYank: after.version,
      afterYankByNode,
      yankReached,
    }
  } finally {
    for (const n of nodes) await n.mesh.close().catch(() => undefined)
    await rm(root, { recursive: true, force: true })
  }
}
