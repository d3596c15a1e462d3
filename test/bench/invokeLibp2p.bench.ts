import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { libp2pTransport } from '../../node/invokeProtocol.js'
import { createMesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { startHttpProvider } from '../_helpers/httpProvider.js'
import { invokePair } from '../_helpers/invokePeers.js'

// Invoke overhead over libp2p between two real nodes on 127.0.0.1 (TCP + noise + yamux): over the
// keep-alive /fmesh/invoke/1.1.0 stream and over one /fmesh/invoke/1.0.0 stream per call, beside the
// same governed call of an in-process function and of an HTTP provider on loopback, and the floor of
// the libp2p path, a raw stream round trip (open a stream, one length-prefixed frame each way) on the
// same connection. Every path runs in the same process, interleaved in rounds, so load on the machine
// falls on all of them alike. Both ledgers are durable (the host leaves its own lineage for every call).

const ROUNDS = 10
const PER_ROUND = 200
const WARMUP = 300

interface Latency {
  name: string
  p50: number
  p99: number
  opsPerSec: number
}

/** p50/p99 and calls a second of each path, sampled in interleaved rounds. */
async function latencies(paths: { name: string; op: () => Promise<unknown> }[]): Promise<Latency[]> {
  for (const { op } of paths) for (let i = 0; i < WARMUP; i++) await op()
  const times = paths.map(() => [] as number[])
  const spent = paths.map(() => 0)
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, { op }] of paths.entries()) {
      for (let i = 0; i < PER_ROUND; i++) {
        const t0 = process.hrtime.bigint()
        await op()
        const us = Number(process.hrtime.bigint() - t0) / 1000
        times[k]!.push(us)
        spent[k]! += us
      }
    }
  return paths.map(({ name }, k) => {
    const sorted = times[k]!.sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
    const m = { name, p50: at(0.5), p99: at(0.99), opsPerSec: sorted.length / (spent[k]! / 1e6) }
    console.log(
      `  ${name.padEnd(52)} p50 ${m.p50.toFixed(0).padStart(6)} us  p99 ${m.p99.toFixed(0).padStart(6)} us  ${m.opsPerSec.toFixed(0).padStart(6)} calls/s`,
    )
    return m
  })
}

/** Calls a second of each path when it runs `per` calls at once, in interleaved rounds (~2 s each). */
async function throughputs(
  paths: { name: string; op: () => Promise<unknown> }[],
  per: number,
): Promise<number[]> {
  for (const { op } of paths) for (let i = 0; i < 30; i++) await op()
  const calls = paths.map(() => 0)
  const spent = paths.map(() => 0)
  for (let r = 0; r < 4; r++)
    for (const [k, { op }] of paths.entries()) {
      const start = performance.now()
      while (performance.now() - start < 500) {
        await op()
        calls[k]! += per
      }
      spent[k]! += performance.now() - start
    }
  return paths.map(({ name }, k) => {
    const perSec = calls[k]! / (spent[k]! / 1000)
    console.log(`  ${name.padEnd(52)} ${perSec.toFixed(0).padStart(6)} calls/s`)
    return perSec
  })
}

function compare(label: string, subject: Latency, baseline: Latency): void {
  console.log(
    `  ratio ${label.padEnd(46)} p50 ${(subject.p50 / baseline.p50).toFixed(2)}x  p99 ${(subject.p99 / baseline.p99).toFixed(2)}x  (+${(subject.p50 - baseline.p50).toFixed(0)} us at p50)`,
  )
}

export default async function invokeLibp2pBench(): Promise<void> {
  // The host's per-peer rate limit would refuse a benchmark's call rate: lifted here.
  const pair = await invokePair({ serve: { rate: { perSecond: 1e6, burst: 1e6 } } })
  const http = await startHttpProvider()
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-invoke-bench-'))
  // A second caller mesh on the same libp2p node whose transport opens a 1.0.0 stream per call.
  const perCall = await createMesh({
    ledger: { path: join(dir, 'caller-1.0.0.sqlite') },
    dataDir: join(dir, 'caller-1.0.0'),
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [pair.signer.id] } },
    transports: [libp2pTransport(pair.callerNode, { keepAlive: false })],
  })
  try {
    const sharpen = (input: { image: string }) => ({ image: `${input.image}!` })
    const schema = {
      inputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
      outputSchema: { type: 'object', required: ['image'] },
    }
    pair.host.marketplace.register({ name: 'acme.com/image/sharpen', version: '1.0.0', ...schema }, sharpen)
    pair.caller.marketplace.register({ name: 'acme.com/image/local', version: '1.0.0', ...schema }, sharpen)
    await pair.publish('acme.com/image/sharpen', schema)
    await pair.publish('acme.com/image/http', schema, { endpoint: http.url('/ok') })
    await perCall.publish(pair.draft('acme.com/image/sharpen', schema), { signer: pair.signer })
    const input = { image: 'cat' }
    // The floor: a bare protocol round trip on the same connection, no mesh on either side.
    await pair.hostNode.handle('/fmesh/bench-echo/1.0.0', async (stream) => {
      const lp = lpStream(stream)
      await lp.write(await lp.read())
      await stream.close()
    })
    const frame = new TextEncoder().encode(JSON.stringify(input))
    const [local, overHttp, overSession, overStreams, rawTrip] = await latencies([
      {
        name: 'mesh.call, local: (in-process, durable)',
        op: () => pair.caller.call('acme.com/image/local@1', input),
      },
      {
        name: 'mesh.call, http:// provider on loopback',
        op: () => pair.caller.call('acme.com/image/http@1', input),
      },
      {
        name: 'mesh.call, libp2p: keep-alive stream (1.1.0)',
        op: () => pair.caller.call('acme.com/image/sharpen@1', input),
      },
      {
        name: 'mesh.call, libp2p: stream per call (1.0.0)',
        op: () => perCall.call('acme.com/image/sharpen@1', input),
      },
      {
        name: 'raw libp2p stream round trip (one frame each way)',
        op: async () => {
          const stream = await pair.callerNode.dialProtocol(pair.hostNode.peerId, '/fmesh/bench-echo/1.0.0')
          const lp = lpStream(stream)
          await lp.write(frame)
          await lp.read()
          await stream.close()
        },
      },
    ])
    // Throughput with calls in flight (within the host's default per-peer limit of 16).
    const inFlight = 16
    const batch = (mesh: typeof perCall, name: string) => () =>
      Promise.all(Array.from({ length: inFlight }, () => mesh.call(name, input)))
    const [httpMany, sessionMany, streamsMany] = await throughputs(
      [
        {
          name: `mesh.call, http://, ${inFlight} in flight`,
          op: batch(pair.caller, 'acme.com/image/http@1'),
        },
        {
          name: `mesh.call, libp2p: 1.1.0, ${inFlight} in flight`,
          op: batch(pair.caller, 'acme.com/image/sharpen@1'),
        },
        {
          name: `mesh.call, libp2p: 1.0.0, ${inFlight} in flight`,
          op: batch(perCall, 'acme.com/image/sharpen@1'),
        },
      ],
      inFlight,
    )
    console.log(
      `  ratio libp2p 1.1.0 vs http, ${inFlight} in flight              ${(sessionMany! / httpMany!).toFixed(2)}x calls/s`,
    )
    console.log(
      `  ratio libp2p 1.0.0 vs http, ${inFlight} in flight              ${(streamsMany! / httpMany!).toFixed(2)}x calls/s`,
    )
    console.log(
      `  ratio libp2p 1.1.0 vs 1.0.0, ${inFlight} in flight             ${(sessionMany! / streamsMany!).toFixed(2)}x calls/s`,
    )
    compare('libp2p 1.1.0 vs local', overSession!, local!)
    compare('libp2p 1.1.0 vs http', overSession!, overHttp!)
    compare('libp2p 1.1.0 vs raw libp2p round trip', overSession!, rawTrip!)
    compare('libp2p 1.1.0 vs 1.0.0', overSession!, overStreams!)
    compare('libp2p 1.0.0 vs http', overStreams!, overHttp!)
    compare('http vs local', overHttp!, local!)
    const [caller, host] = [await pair.caller.lineage.verify(), await pair.host.lineage.verify()]
    console.log(
      `  ledgers after the run: caller ${caller.entries} entries (verify ${caller.ok ? 'ok' : 'FAILED'}), host ${host.entries} entries (verify ${host.ok ? 'ok' : 'FAILED'})`,
    )
  } finally {
    await http.close()
    await perCall.close()
    await pair.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
