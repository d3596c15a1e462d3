import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { INVOKE_SESSION_PROTOCOL } from '../../node/_invokeWire.js'
import { INVOKE_PROTOCOL, type ServeInvocationsOptions } from '../../node/invokeProtocol.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { type InvokePair, invokePair } from '../_helpers/invokePeers.js'
import { until } from '../_helpers/until.js'

// The keep-alive invoke protocol between two real libp2p nodes on 127.0.0.1: calls share one
// /fmesh/invoke/1.1.0 stream per peer, a cancelled call sends a cancel frame, a dead stream is
// replaced, a host without 1.1.0 is called over 1.0.0, and a hostile peer cannot make the host hold
// more than its limits allow.

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const text = (bytes: { subarray(): Uint8Array }) =>
  JSON.parse(new TextDecoder().decode(bytes.subarray())) as Record<string, unknown>

let pairs: InvokePair[] = []
let raws: Stream[] = []
afterEach(async () => {
  for (const stream of raws) stream.abort(new Error('the test is over'))
  raws = []
  await Promise.all(pairs.map((p) => p.close()))
  pairs = []
})

interface Setup {
  pair: InvokePair
  hostClock: FakeClock
  /** Protocols the caller asked for, one list per stream it opened. */
  opened: string[][]
  /** Handlers of acme.com/test/hang running on the host, with their abort signals. */
  hangs: AbortSignal[]
}

async function setup(serve: ServeInvocationsOptions = {}): Promise<Setup> {
  const hostClock = fakeClock(Date.now())
  const pair = await invokePair({ hostClock, serve })
  pairs.push(pair)
  const hangs: AbortSignal[] = []
  pair.host.marketplace.register(
    { name: 'acme.com/text/upper', version: '1.0.0' },
    (input: { text: string }) => ({
      text: input.text.toUpperCase(),
    }),
  )
  pair.host.marketplace.register({ name: 'acme.com/test/hang', version: '1.0.0' }, (_input, ctx) => {
    hangs.push(ctx.signal)
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
    )
  })
  await pair.publish('acme.com/text/upper')
  await pair.publish('acme.com/test/hang')
  const opened: string[][] = []
  // Count the streams the caller opens (it opens them on the connection it has).
  await pair.callerNode.dial(pair.hostNode.getMultiaddrs()[0]!)
  const connection = pair.callerNode.getConnections(pair.hostNode.peerId)[0]!
  const newStream = connection.newStream.bind(connection)
  connection.newStream = ((protocols: string | string[], options?: unknown) => {
    opened.push([protocols].flat())
    return newStream(protocols, options as never)
  }) as Connection['newStream']
  return { pair, hostClock, opened, hangs }
}

const sessionStreams = (from: Libp2p, to: Libp2p) =>
  from
    .getConnections(to.peerId)
    .flatMap((c) => c.streams)
    .filter((s) => s.protocol === INVOKE_SESSION_PROTOCOL && s.status === 'open')

describe('keep-alive invoke protocol (/fmesh/invoke/1.1.0)', () => {
  it('sequential calls and 16 at once all share one stream per peer', async () => {
    const { pair, opened } = await setup()
    for (let i = 0; i < 5; i++)
      expect((await pair.caller.call('acme.com/text/upper@1', { text: `a${i}` })).output).toEqual({
        text: `A${i}`,
      })
    const outputs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => pair.caller.call('acme.com/text/upper@1', { text: `b${i}` })),
    )
    expect(outputs.map((r) => r.output)).toEqual(Array.from({ length: 16 }, (_, i) => ({ text: `B${i}` })))
    expect(opened).toEqual([[INVOKE_SESSION_PROTOCOL, INVOKE_PROTOCOL]])
    expect(sessionStreams(pair.callerNode, pair.hostNode)).toHaveLength(1)
  })

  it('a cancelled call sends a cancel frame: the host aborts its handler, and the stream goes on serving', async () => {
    const { pair, hangs, opened } = await setup()
    await pair.caller.call('acme.com/text/upper@1', { text: 'x' })
    const controller = new AbortController()
    const call = pair.caller.call('acme.com/test/hang@1', {}, { signal: controller.signal, maxAttempts: 1 })
    call.catch(() => undefined)
    await until(() => hangs.length === 1, { what: 'the hanging handler started' })
    controller.abort()
    await expect(call).rejects.toMatchObject({ code: 'E_ABORTED' })
    await until(() => hangs[0]!.aborted, { what: 'the host aborted its handler' })
    expect((await pair.caller.call('acme.com/text/upper@1', { text: 'y' })).output).toEqual({ text: 'Y' })
    expect(opened).toHaveLength(1)
  })

  it('a dead stream is replaced: the next call opens a new one', async () => {
    const { pair, opened } = await setup()
    await pair.caller.call('acme.com/text/upper@1', { text: 'x' })
    const [first] = sessionStreams(pair.callerNode, pair.hostNode)
    first!.abort(new Error('the test kills the stream'))
    expect((await pair.caller.call('acme.com/text/upper@1', { text: 'y' })).output).toEqual({ text: 'Y' })
    expect(opened).toHaveLength(2)
    const [second] = sessionStreams(pair.callerNode, pair.hostNode)
    expect(second!.id).not.toBe(first!.id)
  })

  it('a host that serves only 1.0.0 is called over 1.0.0, and is not offered 1.1.0 again at once', async () => {
    const { pair, opened } = await setup()
    await pair.hostNode.unhandle(INVOKE_SESSION_PROTOCOL)
    expect((await pair.caller.call('acme.com/text/upper@1', { text: 'x' })).output).toEqual({ text: 'X' })
    expect((await pair.caller.call('acme.com/text/upper@1', { text: 'y' })).output).toEqual({ text: 'Y' })
    expect(opened).toEqual([[INVOKE_SESSION_PROTOCOL, INVOKE_PROTOCOL], [INVOKE_PROTOCOL]])
  })
})

describe('keep-alive invoke protocol: a hostile peer', () => {
  /** A raw 1.1.0 stream from the caller's libp2p node to the host. */
  const open = async (s: Setup) => {
    const stream: Stream = await s.pair.callerNode.dialProtocol(
      s.pair.hostNode.getMultiaddrs()[0]!,
      INVOKE_SESSION_PROTOCOL,
    )
    raws.push(stream)
    return { stream, lp: lpStream(stream) }
  }
  const request = (id: number, fn = 'acme.com/test/hang@1.0.0', input: unknown = {}, extra = {}) => {
    const body = json(input)
    return [
      json({
        v: 1,
        id,
        fn,
        invocation: `inv-${id}`,
        attempt: 1,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        principal: 'mallory',
        maxResponseBytes: 1024,
        inputBytes: body.byteLength,
        ...extra,
      }),
      body,
    ]
  }
  /** The host ended the stream: the next read finds its end. */
  const ended = async (lp: ReturnType<typeof lpStream>) => {
    const end = await lp.read({ signal: AbortSignal.timeout(5000) }).then(
      () => 'a frame',
      (err: Error) => err.name,
    )
    expect(end).not.toBe('a frame')
    expect(end).not.toBe('TimeoutError')
  }

  it('past maxConcurrentPerPeer calls in flight on its stream, each further call is refused with E_PEER_BUSY under its id', async () => {
    const s = await setup({ maxConcurrentPerPeer: 2 })
    const { lp } = await open(s)
    for (const id of [1, 2, 3, 4]) await lp.writeV(request(id))
    const first = text(await lp.read())
    const second = text(await lp.read())
    expect([first.id, second.id].sort()).toEqual([3, 4])
    expect(first).toMatchObject({ ok: false, ran: false, error: { code: 'E_PEER_BUSY' } })
    await until(() => s.hangs.length === 2, { what: 'two calls running' })
    // A cancel frame for a call in flight aborts it; one for an id not in flight is ignored.
    await lp.write(json({ v: 1, cancel: 99 }))
    await lp.write(json({ v: 1, cancel: 1 }))
    await until(() => s.hangs[0]!.aborted, { what: 'call 1 aborted' })
    const answer = text(await lp.read())
    expect(answer).toMatchObject({ id: 1, ok: false })
  })

  it('a duplicate id, a frame that is not JSON, or a malformed cancel ends the stream, and its running calls are aborted', async () => {
    const s = await setup()
    const a = await open(s)
    await a.lp.writeV(request(1))
    await until(() => s.hangs.length === 1, { what: 'call 1 running' })
    await a.lp.writeV(request(1))
    await ended(a.lp)
    await until(() => s.hangs[0]!.aborted, { what: 'the call on the ended stream aborted' })
    for (const frame of [new TextEncoder().encode('{not json'), json({ v: 1, cancel: 'x' })]) {
      const b = await open(s)
      await b.lp.write(frame)
      await ended(b.lp)
    }
  })

  it('an oversize input declared on the stream is refused under its id, then the stream ends', async () => {
    const s = await setup({ maxInputBytes: 16 })
    const { lp } = await open(s)
    await lp.write(request(7, undefined, {}, { inputBytes: 1000 })[0]!)
    expect(text(await lp.read())).toMatchObject({
      id: 7,
      ok: false,
      error: { code: 'E_PEER_REQUEST_TOO_LARGE' },
    })
    await ended(lp)
  })

  it('a stream with nothing in flight is closed after the idle timeout, on the host clock', async () => {
    const s = await setup({ sessionIdleMs: 5000 })
    const { stream, lp } = await open(s)
    await lp.writeV(request(1, 'acme.com/text/upper@1.0.0', { text: 'a' }))
    expect(text(await lp.read())).toMatchObject({ id: 1, ok: true })
    await lp.read()
    expect(stream.status).toBe('open')
    await s.hostClock.advanceAsync(5000)
    await ended(lp)
  })
})
