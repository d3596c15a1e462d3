import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INVOKE_SESSION_PROTOCOL } from '../../node/_invokeWire.js'
import {
  INVOKE_PROTOCOL,
  type InvokeService,
  libp2pTransport,
  serveInvocations,
} from '../../node/invokeProtocol.js'
import type { ServiceComponents, Startable } from '../../src/components.js'
import type { InvokedEntry } from '../../src/ledger/entry.js'
import { createMesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner } from '../../src/trust/signer.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import {
  endpointOf,
  type InvokePair,
  invokePair,
  loopbackNode,
  recordDraft,
} from '../_helpers/invokePeers.js'
import { until } from '../_helpers/until.js'

// Two real libp2p nodes on 127.0.0.1, one mesh on each: the host serves its marketplace over
// /fmesh/invoke/1.0.0, the caller reaches it through libp2pTransport. Each mesh runs on its own fake
// clock, so a deadline passes on one side only when the test says so.

interface Hang {
  ctx: { signal: AbortSignal; deadline?: number; invocationId: string }
  aborted: Promise<unknown>
}

let pair: InvokePair
let callerClock: FakeClock
let hostClock: FakeClock
const seen: { traceparent?: string; principal?: string; invocationId: string; deadline?: number }[] = []
const hangs: Hang[] = []
const hostEvents: Record<string, unknown>[] = []
let charges = 0

type Failure = Error & {
  code: string
  details: Record<string, unknown>
  cause?: {
    code: string
    details: Record<string, unknown>
    sent?: boolean
    retryable?: boolean
    failure?: string
  }
}
const fails = async (promise: Promise<unknown>): Promise<Failure> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error('expected the call to fail')
  return err as Failure
}

beforeAll(async () => {
  callerClock = fakeClock(Date.now())
  hostClock = fakeClock(Date.now())
  pair = await invokePair({ callerClock, hostClock, serve: { maxInputBytes: 4096 } })
  pair.host.events.on('service', (e) => void hostEvents.push(e))
  const m = pair.host.marketplace
  m.register(
    {
      name: 'acme.com/text/upper',
      version: '1.0.0',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    },
    (input: { text: string; n?: number }, ctx) => {
      const c = ctx as typeof ctx & { invocationId: string; reportQuantity(q: number): void }
      seen.push({ ...ctx, invocationId: c.invocationId })
      if (input.n !== undefined) c.reportQuantity(input.n)
      return { text: input.text.toUpperCase() }
    },
  )
  m.register({ name: 'acme.com/test/hang', version: '1.0.0' }, (_input, ctx) => {
    const { promise, resolve } = Promise.withResolvers<unknown>()
    hangs.push({ ctx: ctx as Hang['ctx'], aborted: promise })
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => {
        resolve(ctx.signal.reason)
        reject(new Error('aborted'))
      }),
    )
  })
  m.register(
    { name: 'acme.com/pay/charge', version: '1.0.0', idempotency: 'exactly-once', maxRisk: 'mutation' },
    (input: { cents: number }) => ({ charged: input.cents, run: ++charges }),
  )
  m.register(
    {
      name: 'acme.com/test/strict',
      version: '1.0.0',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { maxLength: 3 } } },
    },
    (input: { text: string }) => input,
  )
  m.register({ name: 'acme.com/test/big', version: '1.0.0' }, (input: { n: number }) => ({
    s: 'x'.repeat(input.n),
  }))
  for (const name of [
    'acme.com/text/upper',
    'acme.com/test/hang',
    'acme.com/test/strict',
    'acme.com/test/big',
  ])
    await pair.publish(name)
  await pair.publish('acme.com/pay/charge', { idempotency: 'exactly-once', maxRisk: 'mutation' })
  await pair.publish('acme.com/test/missing')
  await pair.publish('acme.com/test/short', {}, { endpoint: `libp2p:/p2p/${pair.hostNode.peerId}` })
  pair.host.marketplace.register({ name: 'acme.com/test/short', version: '1.0.0' }, () => ({ short: true }))
})
afterAll(() => pair.close())

/** The entries of one invocation in a mesh's lineage. */
const lineage = async (mesh: InvokePair['host'], invocation: string) =>
  (await mesh.lineage.entries(invocation)).map((e) => e.entry)

describe('invoke protocol over libp2p', () => {
  it('runs a call from mesh A on mesh B; both lineages name both invocation ids; the caller is charged', async () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const result = await pair.caller.call<{ text: string }>(
      'acme.com/text/upper@^1',
      { text: 'hi', n: 3 },
      { maxQuantity: 3n, traceparent: parent, principal: 'alice' },
    )
    expect(result.output).toEqual({ text: 'HI' })
    expect(result.charge).toMatchObject({ currency: 'USDC', amount: 15n, quantity: 3n })
    const hostRun = seen.at(-1)!
    const [invoked, completed] = await lineage(pair.caller, result.invocationId)
    expect(completed).toMatchObject({ type: 'FUNCTION_COMPLETED', providerInvocation: hostRun.invocationId })
    const hostEntries = await lineage(pair.host, hostRun.invocationId)
    expect(hostEntries.map((e) => e.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(hostEntries[0]).toMatchObject({
      callerInvocation: result.invocationId,
      provider: 'local',
      principal: `alice@${pair.callerNode.peerId}`,
      function: 'acme.com/text/upper',
    })
    // The trace: one trace id from the caller's parent, through the caller's attempt, to the host's.
    const traceId = parent.split('-')[1]
    expect((invoked as InvokedEntry).traceparent.split('-')[1]).toBe(traceId)
    expect(hostRun.traceparent!.split('-')[1]).toBe(traceId)
    expect((hostEntries[0] as InvokedEntry).traceparent).toBe(hostRun.traceparent)
    expect(await pair.host.billing.usage({ by: 'principal' })).toEqual([
      { key: `alice@${pair.callerNode.peerId}`, currency: null, amount: 0n, calls: 1 },
    ])
    expect(await pair.caller.lineage.verify()).toMatchObject({ ok: true })
    expect(await pair.host.lineage.verify()).toMatchObject({ ok: true })
    expect(hostEvents).toContainEqual({
      type: 'peer:invoke',
      outcome: 'ok',
      from: pair.callerNode.peerId.toString(),
      name: 'acme.com/text/upper@1.0.0',
      invocation: hostRun.invocationId,
    })
  })

  it('error: a host refuses a callerInvocation that is not an invocation id', async () => {
    const err = await fails(
      pair.host.call('acme.com/text/upper@1.0.0', { text: 'a' }, { callerInvocation: 'a b' }),
    )
    expect(err).toMatchObject({ code: 'E_CALL_OPTIONS_INVALID', details: { field: 'callerInvocation' } })
  })

  it('calls a libp2p:/p2p/<peer id> endpoint on a connection the node already has', async () => {
    const result = await pair.caller.call('acme.com/test/short@1.0.0', {})
    expect(result.output).toEqual({ short: true })
  })

  it('carries the deadline as time left; the host enforces it on its own clock and aborts the handler', async () => {
    const n = hangs.length
    const failed = fails(pair.caller.call('acme.com/test/hang@1', {}, { timeoutMs: 2000 }))
    const hang = await until(() => hangs[n])
    expect(hang.ctx.deadline).toBe(hostClock.now() + 2000)
    await hostClock.advanceAsync(2000)
    await hang.aborted
    const err = await failed
    // The caller's clock has not moved: what it sees is the host's own deadline error.
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.cause).toMatchObject({
      code: 'E_PEER_CALL_FAILED',
      sent: true,
      retryable: false,
      failure: 'timeout',
      details: { remoteCode: 'E_DEADLINE_EXCEEDED' },
    })
    const host = await lineage(pair.host, hang.ctx.invocationId)
    expect(host.map((e) => e.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_FAILED'])
    expect(host[1]).toMatchObject({ error: { code: 'E_DEADLINE_EXCEEDED' } })
  })

  it("the caller's deadline resets the stream and the host's hanging handler is aborted", async () => {
    const n = hangs.length
    const failed = fails(pair.caller.call('acme.com/test/hang@1', {}, { timeoutMs: 500 }))
    const hang = await until(() => hangs[n])
    await callerClock.advanceAsync(500)
    expect((await failed).code).toBe('E_DEADLINE_EXCEEDED')
    await hang.aborted
    await until(async () => (await lineage(pair.host, hang.ctx.invocationId)).length === 2)
    expect((await lineage(pair.host, hang.ctx.invocationId))[1]).toMatchObject({ type: 'FUNCTION_FAILED' })
  })

  it("the caller's cancellation aborts the host handler", async () => {
    const controller = new AbortController()
    const n = hangs.length
    const failed = fails(pair.caller.call('acme.com/test/hang@1', {}, { signal: controller.signal }))
    const hang = await until(() => hangs[n])
    controller.abort()
    expect((await failed).code).toBe('E_ABORTED')
    await hang.aborted
    expect(hang.ctx.signal.aborted).toBe(true)
  })

  it('an exactly-once call retried with the same key runs once on the host, even from a caller that lost its ledger', async () => {
    const first = await pair.caller.call('acme.com/pay/charge@1', { cents: 5 }, { idempotencyKey: 'order-1' })
    expect(first.output).toEqual({ charged: 5, run: 1 })
    // A second caller mesh on the same node (same peer, same principal) with an empty ledger.
    const again = await invokeFromFreshLedger(pair, 'order-1')
    expect(again.output).toEqual({ charged: 5, run: 1 })
    expect(charges).toBe(1)
  })

  describe('errors', () => {
    const once = { maxAttempts: 1 }

    it('error: an unknown function is E_PEER_FUNCTION_NOT_HOSTED, not run, retryable elsewhere', async () => {
      const err = await fails(pair.caller.call('acme.com/test/missing@1', {}, once))
      expect(err.cause).toMatchObject({
        code: 'E_PEER_CALL_FAILED',
        sent: false,
        retryable: true,
        details: { remoteCode: 'E_PEER_FUNCTION_NOT_HOSTED' },
      })
      expect(err.message).toContain('E_PEER_FUNCTION_NOT_HOSTED')
    })

    it("error: input that breaks the host's schema is the host's E_INPUT_INVALID, not retried", async () => {
      const err = await fails(pair.caller.call('acme.com/test/strict@1', { text: 'toolong' }))
      expect(err.cause).toMatchObject({
        sent: false,
        retryable: false,
        details: { remoteCode: 'E_INPUT_INVALID' },
      })
      expect(err.details.attempts).toHaveLength(1)
    })

    it("error: a request over the host's input limit is E_PEER_REQUEST_TOO_LARGE, answered before the stream is reset", async () => {
      const err = await fails(
        pair.caller.call('acme.com/test/strict@1', { text: 'x'.repeat(3_000_000) }, once),
      )
      expect(err.cause).toMatchObject({ details: { remoteCode: 'E_PEER_REQUEST_TOO_LARGE' }, sent: false })
    })

    it("error: an output over the caller's response limit is refused by the host", async () => {
      const err = await fails(pair.caller.call('acme.com/test/big@1', { n: 1_100_000 }, once))
      expect(err.cause).toMatchObject({ details: { remoteCode: 'E_PEER_RESPONSE_TOO_LARGE' } })
    })

    it('error: a peer that is not there is E_PROVIDER_UNREACHABLE, not sent', async () => {
      const gone = await loopbackNode()
      const endpoint = endpointOf(gone)
      await gone.stop()
      await pair.publish('acme.com/test/gone', {}, { endpoint })
      const err = await fails(pair.caller.call('acme.com/test/gone@1', {}, once))
      expect(err.cause).toMatchObject({ code: 'E_PROVIDER_UNREACHABLE', sent: false, retryable: true })
    })

    it('error: an endpoint whose peer id is not a peer id is E_PEER_ENDPOINT_INVALID', async () => {
      await pair.publish('acme.com/test/badpeer', {}, { endpoint: 'libp2p:/p2p/QmNotAPeerIdAtAll' })
      const err = await fails(pair.caller.call('acme.com/test/badpeer@1', {}, once))
      expect(err.cause).toMatchObject({ code: 'E_PEER_ENDPOINT_INVALID', sent: false })
      expect((err.cause as unknown as Error).message).toMatch(
        /is not a peer id[\s\S]*libp2p:\/p2p\/<peer id>/,
      )
    })

    it('error: a malformed frame on a raw stream gets E_PEER_PROTOCOL', async () => {
      const answer = await raw(pair.callerNode, pair.hostNode, async (lp) => {
        await lp.write(new TextEncoder().encode('{not json'))
      })
      expect(answer).toMatchObject({ ok: false, ran: false, error: { code: 'E_PEER_PROTOCOL' } })
      const missing = await raw(pair.callerNode, pair.hostNode, async (lp) => {
        await lp.write(new TextEncoder().encode(JSON.stringify({ v: 1, fn: 'acme.com/text/upper@1.0.0' })))
      })
      expect(missing).toMatchObject({
        error: { code: 'E_PEER_PROTOCOL', details: { field: 'invocation' } },
      })
    })

    const header = (extra: Record<string, unknown> = {}) =>
      new TextEncoder().encode(
        JSON.stringify({
          v: 1,
          fn: 'acme.com/text/upper@1.0.0',
          invocation: 'inv_raw',
          attempt: 1,
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          principal: 'raw',
          maxResponseBytes: 1024,
          inputBytes: 12,
          timeoutMs: 1000,
          ...extra,
        }),
      )
    const text = new TextEncoder().encode('{"text":"a"}')

    it('answers a well-formed raw request, and refuses one whose input frame is not the size it declared', async () => {
      const ok = await raw(pair.callerNode, pair.hostNode, (lp) => lp.writeV([header(), text]))
      expect(ok).toMatchObject({ ok: true, outputBytes: 12, quantity: '1', replayed: false })
      const short = await raw(pair.callerNode, pair.hostNode, (lp) =>
        lp.writeV([header({ inputBytes: 40 }), text]),
      )
      expect(short).toMatchObject({
        ok: false,
        error: { code: 'E_PEER_PROTOCOL', details: { field: 'inputBytes' } },
      })
    })

    it('error: a request with no time left is E_DEADLINE_EXCEEDED before anything runs', async () => {
      const answer = await raw(pair.callerNode, pair.hostNode, (lp) =>
        lp.writeV([header({ timeoutMs: 0 }), text]),
      )
      expect(answer).toMatchObject({
        ok: false,
        ran: false,
        retryable: false,
        error: { code: 'E_DEADLINE_EXCEEDED' },
      })
    })

    it('error: a frame over every limit is refused before it is read', async () => {
      const answer = await raw(pair.callerNode, pair.hostNode, (lp) => lp.write(new Uint8Array(20_000)))
      expect(answer).toMatchObject({
        ok: false,
        error: { code: 'E_PEER_REQUEST_TOO_LARGE', details: { part: 'frame', limit: 16384 } },
      })
    })

    it('error: a wrong protocol version gets E_PEER_VERSION_UNSUPPORTED', async () => {
      const answer = await raw(pair.callerNode, pair.hostNode, async (lp) => {
        await lp.write(new TextEncoder().encode(JSON.stringify({ v: 2, fn: 'acme.com/text/upper@1.0.0' })))
      })
      expect(answer).toMatchObject({
        ok: false,
        error: { code: 'E_PEER_VERSION_UNSUPPORTED', details: { supported: [1] } },
      })
    })

    it('error: a peer that never sends its request gets E_PEER_REQUEST_TIMEOUT on the host clock', async () => {
      // Answers of earlier tests may still hold their drain timers for a moment; each open keep-alive
      // stream holds its idle timer.
      const sessions = () =>
        pair.hostNode
          .getConnections()
          .flatMap((c) => c.streams)
          .filter((s) => s.protocol === INVOKE_SESSION_PROTOCOL).length
      await until(() => hostClock.pending === sessions(), { what: 'earlier answers to drain' })
      const before = hostClock.pending
      const answer = raw(pair.callerNode, pair.hostNode, async () => {
        await until(() => hostClock.pending > before, { what: 'the request timer' })
        await hostClock.advanceAsync(10_000)
      })
      expect(await answer).toMatchObject({ error: { code: 'E_PEER_REQUEST_TIMEOUT' } })
    })
  })
})

describe('a host that lies', () => {
  let rogue: Libp2p
  let mode: 'not-json' | 'bad-header' | 'oversize' | 'reset' = 'not-json'
  beforeAll(async () => {
    rogue = await loopbackNode()
    await rogue.handle(INVOKE_PROTOCOL, async (stream: Stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.read()
      const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
      if (mode === 'reset') return stream.abort(new Error('rogue reset'))
      if (mode === 'not-json') await lp.write(new TextEncoder().encode('<html>'))
      if (mode === 'bad-header') await lp.write(enc({ v: 1, ok: true, invocation: 'x' }))
      if (mode === 'oversize')
        await lp.write(
          enc({
            v: 1,
            ok: true,
            invocation: 'inv_x',
            quantity: '1',
            replayed: false,
            outputBytes: 5_000_000,
          }),
        )
      await stream.close()
    })
    await pair.publish('acme.com/test/rogue', {}, { endpoint: endpointOf(rogue) })
  })
  afterAll(() => rogue.stop())

  it.each([
    ['not-json', 'not UTF-8 JSON'],
    ['bad-header', "header's quantity"],
    ['oversize', 'over the 1048576 byte limit'],
  ] as const)('error: a %s response is E_PROVIDER_RESPONSE_INVALID', async (m, text) => {
    mode = m
    const err = await fails(pair.caller.call('acme.com/test/rogue@1', {}, { maxAttempts: 1 }))
    expect(err.cause).toMatchObject({ code: 'E_PROVIDER_RESPONSE_INVALID', sent: true })
    expect((err.cause as unknown as Error).message).toContain(text)
  })

  it('error: a stream reset after the request was sent is E_PROVIDER_FAILED, sent', async () => {
    mode = 'reset'
    const err = await fails(pair.caller.call('acme.com/test/rogue@1', {}, { maxAttempts: 1 }))
    expect(err.cause).toMatchObject({ code: 'E_PROVIDER_FAILED', sent: true, retryable: true })
    expect((err.cause as unknown as Error).message).toContain('after the request was sent')
  })
})

describe('as mesh services', () => {
  /** The wiring a peer node does: serve on start, add the transport, stop serving on stop. */
  const invokeOver =
    (node: Libp2p) =>
    (components: ServiceComponents): Startable => {
      let service: InvokeService | undefined
      let remove: (() => void) | undefined
      return {
        async start() {
          service = await serveInvocations(node, components.mesh, { clock: components.clock })
          remove = components.addTransport(libp2pTransport(node))
        },
        async stop() {
          remove?.()
          await service?.stop()
        },
      }
    }

  it('two meshes, each serving and calling through its service, call each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmesh-invoke-svc-'))
    const [nodeA, nodeB] = [await loopbackNode(), await loopbackNode()]
    const signer = await generateSigner()
    const make = (name: string, node: Libp2p) =>
      createMesh({
        dataDir: join(dir, name),
        registries: [memoryRegistry()],
        trust: { owners: { 'acme.com': [signer.id] } },
        services: [invokeOver(node)],
      })
    const [a, b] = [await make('a', nodeA), await make('b', nodeB)]
    try {
      a.marketplace.register({ name: 'acme.com/hello/a', version: '1.0.0' }, () => ({ from: 'a' }))
      b.marketplace.register({ name: 'acme.com/hello/b', version: '1.0.0' }, () => ({ from: 'b' }))
      await a.publish(recordDraft('acme.com/hello/b', {}, endpointOf(nodeB)), { signer })
      await b.publish(recordDraft('acme.com/hello/a', {}, endpointOf(nodeA)), { signer })
      expect((await a.call('acme.com/hello/b@1', {})).output).toEqual({ from: 'b' })
      expect((await b.call('acme.com/hello/a@1', {})).output).toEqual({ from: 'a' })
    } finally {
      await a.close()
      await b.close()
      await nodeA.stop()
      await nodeB.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('shutdown', () => {
  it('stop() stops accepting and lets a running call finish, with its lineage on both sides', async () => {
    const p = await invokePair()
    try {
      const { promise: gate, resolve: open } = Promise.withResolvers<void>()
      let started = false
      p.host.marketplace.register({ name: 'acme.com/test/slow', version: '1.0.0' }, async () => {
        started = true
        await gate
        return { done: true }
      })
      await p.publish('acme.com/test/slow')
      const running = p.caller.call('acme.com/test/slow@1', {})
      await until(() => started)
      let stopped = false
      const stopping = p.service.stop().then(() => {
        stopped = true
      })
      // The keep-alive stream of the running call is still open: the stopping host refuses on it.
      const refused = await fails(p.caller.call('acme.com/test/slow@1', {}, { maxAttempts: 1 }))
      expect(refused.cause).toMatchObject({ details: { remoteCode: 'E_PEER_BUSY' }, sent: false })
      expect(stopped).toBe(false)
      open()
      const result = await running
      await stopping
      expect(result.output).toEqual({ done: true })
      const completed = (await p.caller.lineage.entries(result.invocationId)).at(-1)!.entry
      expect(completed).toMatchObject({ type: 'FUNCTION_COMPLETED' })
      const hostId = (completed as { providerInvocation: string }).providerInvocation
      expect((await p.host.lineage.entries(hostId)).map((e) => e.entry.type)).toEqual([
        'FUNCTION_INVOKED',
        'FUNCTION_COMPLETED',
      ])
    } finally {
      await p.close()
    }
  })
})

describe('host options', () => {
  it('allow() hosts only some functions; principal() names the remote principal', async () => {
    const p = await invokePair({
      serve: {
        allow: ({ name, peer }) => name !== 'acme.com/text/secret' && peer.length > 0,
        principal: (peer, claimed) => `${claimed}.via.${peer.slice(-6)}`,
      },
    })
    try {
      for (const name of ['acme.com/text/open', 'acme.com/text/secret']) {
        p.host.marketplace.register({ name, version: '1.0.0' }, (_i, ctx) => ({ principal: ctx.principal }))
        await p.publish(name)
      }
      const open = await p.caller.call('acme.com/text/open@1', {}, { principal: 'bob' })
      expect(open.output).toEqual({ principal: `bob.via.${p.callerNode.peerId.toString().slice(-6)}` })
      const secret = await fails(p.caller.call('acme.com/text/secret@1', {}, { maxAttempts: 1 }))
      expect(secret.cause).toMatchObject({ details: { remoteCode: 'E_PEER_FUNCTION_NOT_HOSTED' } })
    } finally {
      await p.close()
    }
  })
})

describe('abuse limits', () => {
  it('error: a peer over its rate is E_PEER_RATE_LIMITED until its bucket refills on the host clock', async () => {
    const clock = fakeClock(Date.now())
    const p = await invokePair({ hostClock: clock, serve: { rate: { perSecond: 1, burst: 2 } } })
    try {
      p.host.marketplace.register(
        { name: 'acme.com/text/echo', version: '1.0.0' },
        (i: unknown) => i as object,
      )
      await p.publish('acme.com/text/echo')
      await p.caller.call('acme.com/text/echo@1', { a: 1 })
      await p.caller.call('acme.com/text/echo@1', { a: 2 })
      const err = await fails(p.caller.call('acme.com/text/echo@1', { a: 3 }, { maxAttempts: 1 }))
      expect(err.cause).toMatchObject({
        details: { remoteCode: 'E_PEER_RATE_LIMITED' },
        sent: false,
        retryable: true,
        failure: 'unavailable',
      })
      clock.advance(1000)
      expect((await p.caller.call('acme.com/text/echo@1', { a: 4 })).output).toEqual({ a: 4 })
    } finally {
      await p.close()
    }
  })

  it('error: past maxConcurrentPerPeer calls in flight a peer gets E_PEER_BUSY; stop() with a fired signal fails the running call', async () => {
    const p = await invokePair({ serve: { maxConcurrentPerPeer: 1 } })
    try {
      let started = 0
      p.host.marketplace.register({ name: 'acme.com/test/hang', version: '1.0.0' }, (_i, ctx) => {
        started++
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('cut'))),
        )
      })
      await p.publish('acme.com/test/hang')
      const first = fails(p.caller.call('acme.com/test/hang@1', {}, { maxAttempts: 1 }))
      await until(() => started === 1)
      const busy = await fails(p.caller.call('acme.com/test/hang@1', {}, { maxAttempts: 1 }))
      expect(busy.cause).toMatchObject({ details: { remoteCode: 'E_PEER_BUSY' }, sent: false })
      await p.service.stop({ signal: AbortSignal.abort() })
      expect((await first).cause).toMatchObject({ code: 'E_PEER_CALL_FAILED' })
      const after = await fails(p.caller.call('acme.com/test/hang@1', {}, { maxAttempts: 1 }))
      expect(after.cause).toMatchObject({ code: 'E_PROVIDER_UNREACHABLE', sent: false })
    } finally {
      await p.close()
    }
  })
})

/** Opens a raw invoke stream from `from` to `to`, lets `send` write frames, and reads the answer header. */
async function raw(
  from: Libp2p,
  to: Libp2p,
  send: (lp: ReturnType<typeof lpStream>) => Promise<void>,
): Promise<Record<string, unknown>> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0]!, INVOKE_PROTOCOL)
  const lp = lpStream(stream)
  const answer = lp.read()
  await send(lp)
  const frame = await answer
  stream.abort(new Error('done'))
  return JSON.parse(new TextDecoder().decode(frame.subarray())) as Record<string, unknown>
}

/** Calls `acme.com/pay/charge` with `key` from a new caller mesh (empty ledger) on the same libp2p node. */
async function invokeFromFreshLedger(p: InvokePair, key: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-invoke-fresh-'))
  const fresh = await createMesh({
    ledger: { path: join(dir, 'ledger.sqlite') },
    dataDir: dir,
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [p.signer.id] } },
    transports: [libp2pTransport(p.callerNode)],
  })
  try {
    await fresh.publish(
      p.draft('acme.com/pay/charge', { idempotency: 'exactly-once', maxRisk: 'mutation' }),
      {
        signer: p.signer,
      },
    )
    return await fresh.call('acme.com/pay/charge@1', { cents: 5 }, { idempotencyKey: key })
  } finally {
    await fresh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
