// Hostile input on the peer wire: lookup and gossip messages (node/_wire.ts, _intake.ts), the invoke
// protocol's headers and frames (node/_invokeWire.ts), first as functions, then over real libp2p
// streams on 127.0.0.1 to a real peer node and a real invoke host. A peer's bytes never crash the
// node, never get an `E_PEER_INTERNAL` (an unexpected exception), and the node keeps serving.
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Intake } from '../../node/_intake.js'
import {
  decodeJson,
  firstIssue,
  INVOKE_PROTOCOL,
  RequestHeaderSchema,
  ResponseHeaderSchema,
} from '../../node/_invokeWire.js'
import { parseLookupRequest } from '../../node/_lookupProtocol.js'
import { decodeAnswer, decodeMessage } from '../../node/_wire.js'
import { LOOKUP_PROTOCOL, SYNC_PROTOCOL } from '../../node/limits.js'
import { RecordStore } from '../../node/recordStore.js'
import { systemClock } from '../../src/clock.js'
import { isMeshError } from '../../src/errors/base.js'
import { MAX_RECORD_BYTES } from '../../src/record/codec.js'
import { watchQueue } from '../../src/registry/watchQueue.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { endpointOf, type InvokePair, invokePair, loopbackNode } from '../_helpers/invokePeers.js'
import { closePeerMeshes, type PeerMesh, startPeerMesh } from '../_helpers/peerMeshes.js'
import { type RawPeer, rawPeer } from '../_helpers/rawPeer.js'
import { signed } from '../_helpers/records.js'
import { INVOKE_CALLER_CODES, INVOKE_HOST_CODES, LOOKUP_CODES, RECORD_CODES, WIRE_CODES } from './_codes.js'
import { fuzzParams, hostileBytes, meshCodeOf } from './_fuzz.js'

const enc = new TextEncoder()
const json = (v: unknown) => enc.encode(JSON.stringify(v))

/** Lookup-shaped messages with hostile fields, and hostile bytes. */
const lookupMessage = fc.oneof(
  hostileBytes(),
  fc
    .record(
      {
        v: fc.oneof(fc.constant(1), fc.jsonValue()),
        name: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
        pattern: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
      },
      { requiredKeys: ['v'] },
    )
    .map(json),
)

describe('fuzz: peer wire messages (functions)', () => {
  it('decodeMessage + parseLookupRequest: a request, or a wire/name MeshError', () => {
    fc.assert(
      fc.property(lookupMessage, (bytes) => {
        meshCodeOf(() => parseLookupRequest(decodeMessage(bytes, 'lookup', 'p'), 'p'), LOOKUP_CODES)
      }),
      fuzzParams(600),
    )
  })

  it('decodeAnswer: an ok answer, E_PEER_PROTOCOL, or the remote error (any code the remote names, as a MeshError)', () => {
    const answer = fc.oneof(
      hostileBytes(),
      fc
        .record({
          v: fc.constant(1),
          ok: fc.jsonValue(),
          error: fc.oneof(fc.jsonValue(), fc.record({ code: fc.string(), shortMessage: fc.jsonValue() })),
        })
        .map(json),
    )
    fc.assert(
      fc.property(answer, (bytes) => {
        try {
          const out = decodeAnswer(bytes, 'lookup', 'p')
          expect(out.ok).toBe(true)
        } catch (err) {
          expect(isMeshError(err)).toBe(true)
        }
      }),
      fuzzParams(600),
    )
  })

  it('invoke headers: decodeJson throws only SyntaxError/TypeError; the schemas never throw and name a field', () => {
    const header = fc.oneof(
      hostileBytes(),
      fc
        .record(
          {
            v: fc.oneof(fc.constant(1), fc.jsonValue()),
            fn: fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue()),
            invocation: fc.string({ maxLength: 300 }),
            attempt: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
            traceparent: fc.string(),
            principal: fc.string({ maxLength: 200 }),
            timeoutMs: fc.oneof(fc.integer(), fc.double()),
            maxResponseBytes: fc.oneof(fc.integer(), fc.double()),
            inputBytes: fc.oneof(fc.integer(), fc.double()),
            ok: fc.boolean(),
            quantity: fc.string(),
            outputBytes: fc.integer(),
            error: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map(json),
    )
    fc.assert(
      fc.property(header, (bytes) => {
        let raw: unknown
        try {
          raw = decodeJson(bytes)
        } catch (err) {
          expect(err instanceof SyntaxError || err instanceof TypeError).toBe(true)
          return
        }
        for (const schema of [RequestHeaderSchema, ResponseHeaderSchema]) {
          const parsed = schema.safeParse(raw)
          if (!parsed.success) {
            const [field, rule] = firstIssue(parsed.error)
            expect(typeof field).toBe('string')
            expect(typeof rule).toBe('string')
          }
        }
      }),
      fuzzParams(600),
    )
  })

  it('gossip intake: hostile record bytes are refused or ignored with a record code, never thrown', async () => {
    const signer = await generateSigner()
    const good = await signed(signer, 'acme.com/image/sharpen', 2)
    const verifier = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [signer.id] })], workers: 0 })
    const intake = new Intake({
      store: new RecordStore(1000),
      verifier,
      seqLedger: memorySeqLedger(),
      clock: systemClock,
      maxRecordBytes: MAX_RECORD_BYTES,
      changes: watchQueue(),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileBytes(), fc.constant(new Uint8Array(MAX_RECORD_BYTES + 1))),
        async (bytes) => {
          const out = await intake.admit(bytes, 'peer:fuzz', 'gossip')
          expect(['refused', 'ignored']).toContain(out.status)
          if (out.status === 'refused' || out.status === 'ignored')
            expect([...RECORD_CODES, 'E_SEQ_ROLLBACK']).toContain(out.reason)
        },
      ),
      fuzzParams(300),
    )
    // The honest record still goes in; a batch of hostile ones beside it does not hide it.
    const outcomes = await intake.admitMany(
      [good.bytes, json({ v: 1 }), new Uint8Array([0xff])],
      'peer:fuzz',
      'sync',
    )
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'refused', 'refused'])
  })
})

/** Writes `frames` on a new stream of `protocol` and reads the first answer frame as JSON (undefined if the peer closed or reset). */
async function exchange(
  raw: RawPeer,
  target: string,
  protocol: string,
  frames: Uint8Array[],
): Promise<Record<string, unknown> | undefined> {
  const stream = await raw.dialProtocol(multiaddr(target), protocol)
  const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
  const signal = AbortSignal.timeout(15_000)
  try {
    const answer = lp.read({ signal })
    answer.catch(() => {})
    await lp.writeV(frames, { signal }).catch(() => {})
    await stream.close({ signal }).catch(() => {})
    return JSON.parse(new TextDecoder().decode((await answer).subarray())) as Record<string, unknown>
  } catch {
    if (signal.aborted) throw new Error('the node did not answer or close within 15 s (a hang)')
    return undefined
  } finally {
    stream.abort(new Error('done'))
  }
}

describe('fuzz: peer wire over real libp2p streams', () => {
  let signer: LocalSigner
  let node: PeerMesh
  let raw: RawPeer
  let pair: InvokePair
  beforeAll(async () => {
    signer = await generateSigner()
    node = await startPeerMesh({
      signer,
      node: () => ({
        limits: { lookupsPerSecond: 100_000, syncsPerSecond: 100_000, maxOffenses: 1_000_000 },
      }),
    })
    await node.mesh.publish(
      { ...(await import('../_helpers/records.js')).sampleDraft('acme.com/image/sharpen'), seq: 1 },
      { signer },
    )
    raw = await rawPeer()
    pair = await invokePair({ serve: { rate: { perSecond: 100_000, burst: 100_000 } } })
  })
  afterAll(async () => {
    await raw?.stop()
    await pair?.close()
    if (node !== undefined) await closePeerMeshes([node])
  })

  it('lookup: every hostile request gets an error frame with a wire/name code (or the stream is reset); honest lookups still answer', async () => {
    const target = node.node.addrs[0]!
    await fc.assert(
      fc.asyncProperty(fc.oneof(lookupMessage, fc.constant(new Uint8Array(70_000))), async (frame) => {
        const answer = await exchange(raw, target, LOOKUP_PROTOCOL, [frame])
        if (answer === undefined || answer.ok === true) return
        const code = (answer.error as { code?: string } | undefined)?.code
        expect(LOOKUP_CODES as readonly (string | undefined)[], JSON.stringify(answer)).toContain(code)
      }),
      fuzzParams(30),
    )
    const honest = await exchange(raw, target, LOOKUP_PROTOCOL, [
      json({ v: 1, name: 'acme.com/image/sharpen' }),
    ])
    expect(honest).toMatchObject({ ok: true, records: 1 })
  })

  it('sync: hostile anti-entropy messages get an error frame with a wire code (or an answer); the node keeps serving', async () => {
    const target = node.node.addrs[0]!
    const message = fc.oneof(
      hostileBytes(),
      fc
        .record(
          {
            v: fc.oneof(fc.constant(1), fc.jsonValue()),
            op: fc.oneof(fc.constantFrom('summary', 'pull', 'done', 'other'), fc.jsonValue()),
            digests: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 300 }), fc.jsonValue()),
            from: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
            names: fc.oneof(
              fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constant('acme.com/image/sharpen')), {
                maxLength: 20,
              }),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: ['v', 'op'] },
        )
        .map(json),
    )
    await fc.assert(
      fc.asyncProperty(message, async (frame) => {
        const answer = await exchange(raw, target, SYNC_PROTOCOL, [frame])
        if (answer === undefined || answer.ok === true) return
        const code = (answer.error as { code?: string } | undefined)?.code
        expect(
          [...WIRE_CODES, 'E_PEER_MESSAGE_TOO_LARGE'] as (string | undefined)[],
          JSON.stringify(answer),
        ).toContain(code)
      }),
      fuzzParams(25),
    )
    const honest = await exchange(raw, target, LOOKUP_PROTOCOL, [
      json({ v: 1, name: 'acme.com/image/sharpen' }),
    ])
    expect(honest).toMatchObject({ ok: true, records: 1 })
  })

  it('invoke: hostile headers and input frames get a valid refusal header with an expected code; the host keeps serving', async () => {
    const target = pair.endpoint.slice('libp2p:'.length)
    const header = fc.oneof(
      hostileBytes(),
      fc
        .record(
          {
            v: fc.oneof(fc.constant(1), fc.jsonValue()),
            fn: fc.oneof(fc.constant('acme.com/none/fn@1.0.0'), fc.string({ maxLength: 100 })),
            invocation: fc.oneof(fc.constant('inv-1'), fc.string({ maxLength: 20 })),
            attempt: fc.oneof(fc.constant(1), fc.integer()),
            traceparent: fc.constant('00-0123456789abcdef0123456789abcdef-0123456789abcdef-01'),
            principal: fc.oneof(fc.constant('fuzz'), fc.string({ maxLength: 10 })),
            maxResponseBytes: fc.oneof(fc.constant(1024), fc.integer()),
            inputBytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer()),
          },
          { requiredKeys: ['v', 'traceparent'] },
        )
        .map(json),
    )
    await fc.assert(
      fc.asyncProperty(
        header,
        fc.oneof(hostileBytes(64), fc.constant(new Uint8Array(0))),
        async (h, input) => {
          const answer = await exchange(raw, target, INVOKE_PROTOCOL, [h, input])
          if (answer === undefined) return
          const parsed = ResponseHeaderSchema.safeParse(answer)
          expect(parsed.success, JSON.stringify(answer)).toBe(true)
          expect(answer.ok).toBe(false)
          expect(INVOKE_HOST_CODES as readonly string[], JSON.stringify(answer)).toContain(
            (answer.error as { code: string }).code,
          )
        },
      ),
      fuzzParams(30),
    )
    const after = await exchange(raw, target, INVOKE_PROTOCOL, [
      json({
        v: 1,
        fn: 'acme.com/none/fn@1.0.0',
        invocation: 'inv-after',
        attempt: 1,
        traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
        principal: 'fuzz',
        maxResponseBytes: 1024,
        inputBytes: 2,
      }),
      json({}),
    ])
    expect(after).toMatchObject({ ok: false, error: { code: 'E_PEER_FUNCTION_NOT_HOSTED' } })
  })

  it('a hostile invoke host: any response frames fail the call with a provider MeshError, never charged', async () => {
    const hostile = await loopbackNode()
    let answer: Uint8Array[] = []
    await hostile.handle(INVOKE_PROTOCOL, async (stream) => {
      const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
      try {
        await lp.read({ signal: AbortSignal.timeout(5000) })
        await lp.writeV(answer, { signal: AbortSignal.timeout(5000) })
        await stream.close()
      } catch {
        stream.abort(new Error('done'))
      }
    })
    try {
      await pair.publish('acme.com/hostile/host', {}, { endpoint: endpointOf(hostile) })
      const okHeader = fc.record({
        v: fc.constant(1),
        ok: fc.constant(true),
        invocation: fc.oneof(fc.constant('inv-h'), fc.string({ maxLength: 10 })),
        quantity: fc.oneof(fc.constant('1'), fc.string({ maxLength: 40 })),
        replayed: fc.oneof(fc.boolean(), fc.jsonValue()),
        outputBytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer()),
      })
      const frames = fc.array(fc.oneof(hostileBytes(128), okHeader.map(json)), { minLength: 0, maxLength: 3 })
      const before = (await pair.caller.lineage.verify()).charges
      let succeeded = 0
      await fc.assert(
        fc.asyncProperty(frames, async (f) => {
          answer = f
          const out = await pair.caller
            .call('acme.com/hostile/host@1.0.0', {}, { timeoutMs: 5000, maxAttempts: 1 })
            .then(
              () => undefined,
              (err: unknown) => err,
            )
          if (out === undefined) {
            succeeded++ // the frames happened to be a valid answer (`{}` output)
            return
          }
          expect(isMeshError(out), String((out as Error)?.stack)).toBe(true)
          const { code, details } = out as { code: string; details: { lastCode?: string } }
          const last = code === 'E_INVOCATION_FAILED' ? details.lastCode : code
          expect(INVOKE_CALLER_CODES as readonly (string | undefined)[], (out as Error).message).toContain(
            last,
          )
        }),
        fuzzParams(15),
      )
      // Only the calls that returned a result are charged.
      const after = await pair.caller.lineage.verify()
      expect(after.ok).toBe(true)
      expect(after.charges - before).toBe(succeeded)
    } finally {
      await hostile.stop()
    }
  })
})
