import { lpStream } from '@libp2p/utils'
import { startHttpProvider } from '../_helpers/httpProvider.js'
import { invokePair } from '../_helpers/invokePeers.js'

// Invoke overhead over libp2p (/fmesh/invoke/1.0.0 between two real nodes on 127.0.0.1, TCP + noise
// + yamux), beside the same governed call of an in-process function and of an HTTP provider on
// loopback, all in one run, one call at a time. Both ledgers are durable (the host leaves its own
// lineage for every call). The floor of the libp2p path is measured too: a raw stream round trip
// (open a stream, one length-prefixed frame each way) on the same connection.

const SAMPLES = 2000
const WARMUP = 300

interface Latency {
  name: string
  p50: number
  p99: number
  opsPerSec: number
}

async function latency(name: string, op: () => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < WARMUP; i++) await op()
  const times: number[] = []
  const start = process.hrtime.bigint()
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = process.hrtime.bigint()
    await op()
    times.push(Number(process.hrtime.bigint() - t0) / 1000)
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!
  const m = { name, p50: at(0.5), p99: at(0.99), opsPerSec: SAMPLES / total }
  console.log(
    `  ${name.padEnd(52)} p50 ${m.p50.toFixed(0).padStart(6)} us  p99 ${m.p99.toFixed(0).padStart(6)} us  ${m.opsPerSec.toFixed(0).padStart(6)} calls/s`,
  )
  return m
}

/** Calls a second when `op` runs `per` calls at once, over ~2 s. */
async function throughput(name: string, op: () => Promise<unknown>, per: number): Promise<number> {
  for (let i = 0; i < 30; i++) await op()
  let calls = 0
  const start = performance.now()
  while (performance.now() - start < 2000) {
    await op()
    calls += per
  }
  const perSec = calls / ((performance.now() - start) / 1000)
  console.log(`  ${name.padEnd(52)} ${perSec.toFixed(0).padStart(6)} calls/s`)
  return perSec
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
    const input = { image: 'cat' }

    const local = await latency('mesh.call, local: (in-process, durable)', () =>
      pair.caller.call('acme.com/image/local@1', input),
    )
    const overHttp = await latency('mesh.call, http:// provider on loopback', () =>
      pair.caller.call('acme.com/image/http@1', input),
    )
    const overLibp2p = await latency('mesh.call, libp2p: peer (host mesh.call inside)', () =>
      pair.caller.call('acme.com/image/sharpen@1', input),
    )
    // The floor: a bare protocol round trip on the same connection, no mesh on either side.
    await pair.hostNode.handle('/fmesh/bench-echo/1.0.0', async (stream) => {
      const lp = lpStream(stream)
      await lp.write(await lp.read())
      await stream.close()
    })
    const frame = new TextEncoder().encode(JSON.stringify(input))
    const rawTrip = await latency('raw libp2p stream round trip (one frame each way)', async () => {
      const stream = await pair.callerNode.dialProtocol(pair.hostNode.peerId, '/fmesh/bench-echo/1.0.0')
      const lp = lpStream(stream)
      await lp.write(frame)
      await lp.read()
      await stream.close()
    })
    // Throughput with calls in flight (within the host's default per-peer limit of 16).
    const inFlight = 16
    const batch = (name: string) => () =>
      Promise.all(Array.from({ length: inFlight }, () => pair.caller.call(name, input)))
    const httpMany = await throughput(
      `mesh.call, http://, ${inFlight} in flight`,
      batch('acme.com/image/http@1'),
      inFlight,
    )
    const p2pMany = await throughput(
      `mesh.call, libp2p:, ${inFlight} in flight`,
      batch('acme.com/image/sharpen@1'),
      inFlight,
    )
    console.log(
      `  ratio libp2p vs http, ${inFlight} in flight                    ${(p2pMany / httpMany).toFixed(2)}x calls/s`,
    )
    compare('libp2p vs local', overLibp2p, local)
    compare('libp2p vs http', overLibp2p, overHttp)
    compare('libp2p vs raw libp2p round trip', overLibp2p, rawTrip)
    compare('http vs local', overHttp, local)
    const [caller, host] = [await pair.caller.lineage.verify(), await pair.host.lineage.verify()]
    console.log(
      `  ledgers after the run: caller ${caller.entries} entries (verify ${caller.ok ? 'ok' : 'FAILED'}), host ${host.entries} entries (verify ${host.ok ? 'ok' : 'FAILED'})`,
    )
  } finally {
    await http.close()
    await pair.close()
  }
}
