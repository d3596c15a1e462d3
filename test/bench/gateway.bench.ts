import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon, { type Options, type Result } from 'autocannon'
import { httpGateway } from '../../gateway/httpGateway.js'
import { generateToken } from '../../gateway/tokens.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { upperFunction } from '../_helpers/upper.js'
import { target } from './_harness.js'
import { cpuPerOp, threadCpu } from './_threadCpu.js'

// The HTTP gateway under autocannon on 127.0.0.1 (the load generator in a worker thread, the servers
// on the main thread), beside a bare node:http server answering a fixed JSON (the resolve answer's
// own bytes) in the same run: resolve against the bare server, and durable calls over HTTP against
// mesh.call in process on the same mesh. Subject and baseline alternate for ROUNDS rounds and the
// median ratio is reported, so a load change on a shared machine shifts both sides alike.
// Afterwards the ledger must hold exactly one COMPLETED entry and one charge per successful call,
// none lost or doubled: HTTP calls are sent as a fixed number of requests, each awaited and counted.
//
// The load generator shares the machine's cores with the server (and the in-process baseline has
// none), so each side's CPU per request is also printed: the main thread's (the server, or the
// in-process callers) and the other threads' (autocannon's worker and V8's helper threads).
//
// Targets: resolve >= 1/1.5 of the bare server's throughput; HTTP call >= 50% of the in-process
// durable-call rate. Figures and the machine they were measured on are in the README.

const CONNECTIONS = 32
const SECONDS = 3
const ROUNDS = 3
const IN_FLIGHT = 256
const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

interface Run {
  rate: number
  p50: number
  p99: number
  ok: number
  failed: number
  cpu: { main: number; others: number } | undefined
}

async function cannon(options: Options): Promise<Run> {
  const before = threadCpu()
  const r: Result = await autocannon({ connections: CONNECTIONS, workers: 1, ...options })
  const cpu = cpuPerOp(before, threadCpu(), r['2xx'] + r.non2xx)
  return {
    cpu,
    rate: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    failed: r.non2xx + r.errors + r.timeouts,
  }
}

function line(label: string, runs: readonly Run[]): void {
  const rates = runs.map((r) => fmt.format(r.rate)).join(' / ')
  const p50 = median(runs.map((r) => r.p50))
  const p99 = median(runs.map((r) => r.p99))
  const failed = runs.reduce((n, r) => n + r.failed, 0)
  console.log(
    `  ${label.padEnd(40)} ${rates.padStart(26)} req/s  p50 ${p50} ms  p99 ${p99} ms  (${failed} failed)`,
  )
}

/** Median CPU per request of the runs, main thread / other threads. */
function cpuLine(label: string, cpus: readonly ({ main: number; others: number } | undefined)[]): void {
  const known = cpus.filter((c) => c !== undefined)
  if (known.length === 0) return
  const main = median(known.map((c) => c.main))
  const others = median(known.map((c) => c.others))
  console.log(
    `  ${`  CPU per op, ${label}`.padEnd(40)} main thread ${main.toFixed(1)} us, other threads ${others.toFixed(1)} us`,
  )
}

/** Baseline over subject main-thread CPU per op (medians): the rate ratio were the main thread the only limit. */
function mainRatio(
  baseline: readonly ({ main: number } | undefined)[],
  subject: readonly ({ main: number } | undefined)[],
): number | undefined {
  const b = baseline.filter((c) => c !== undefined).map((c) => c.main)
  const s = subject.filter((c) => c !== undefined).map((c) => c.main)
  return b.length === 0 || s.length === 0 ? undefined : median(b) / median(s)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Durable calls in process, IN_FLIGHT at a time, for `seconds`; every call counted. */
async function inProcess(
  mesh: Mesh,
  seconds: number,
): Promise<{ rate: number; calls: number; cpu: ReturnType<typeof cpuPerOp> }> {
  let calls = 0
  const before = threadCpu()
  const started = performance.now()
  const until = started + seconds * 1000
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        await mesh.call('acme.com/text/upper', { text: 'hello world' })
        calls++
      }
    }),
  )
  const cpu = cpuPerOp(before, threadCpu(), calls)
  return { rate: calls / ((performance.now() - started) / 1000), calls, cpu }
}

export default async function gatewayBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-bench-gateway-'))
  const { token, tokenHash } = generateToken()
  const gateway = httpGateway({ port: 0, rateLimit: false, tokens: [{ tokenHash, principal: 'http' }] })
  const mesh = await createMesh({
    dataDir: dir,
    ledger: { path: join(dir, 'ledger.sqlite') },
    services: [gateway],
  })
  upperFunction().register(mesh.marketplace)
  const resolveUrl = `${gateway.url}/v1/resolve?name=acme.com/text/upper`
  const fixed = await (await fetch(resolveUrl)).text()
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    res.end(fixed)
  })
  const bareUrl = await listen(bare)
  const call: Options = {
    url: `${gateway.url}/v1/call`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'acme.com/text/upper', input: { text: 'hello world' } }),
  }
  try {
    console.log(
      `  resolve: ${CONNECTIONS} connections; call: ${IN_FLIGHT} (as many as the in-process callers); ${ROUNDS} alternating rounds of ${SECONDS} s; answer ${fixed.length} bytes`,
    )
    await cannon({ url: bareUrl, duration: 1 })
    await cannon({ url: resolveUrl, duration: 1 })
    const bareRuns: Run[] = []
    const resolveRuns: Run[] = []
    for (let i = 0; i < ROUNDS; i++) {
      bareRuns.push(await cannon({ url: bareUrl, duration: SECONDS }))
      resolveRuns.push(await cannon({ url: resolveUrl, duration: SECONDS }))
    }
    line('bare node:http, fixed JSON', bareRuns)
    line('gateway GET /v1/resolve', resolveRuns)
    cpuLine(
      'bare node:http',
      bareRuns.map((r) => r.cpu),
    )
    cpuLine(
      'gateway resolve',
      resolveRuns.map((r) => r.cpu),
    )
    const resolveRatio = median(resolveRuns.map((r, i) => r.rate / bareRuns[i]!.rate))
    console.log(`  ratio gateway resolve vs bare node:http (median of rounds): ${resolveRatio.toFixed(3)}x`)
    target('resolve vs bare node:http (per mille)', resolveRatio * 1000, 1000 / 1.5, 'per mille')

    let local = 0
    let http = 0
    // As many calls in flight over HTTP as in process: one connection per in-process caller.
    const warm = await cannon({ ...call, connections: IN_FLIGHT, amount: 3000 })
    http += warm.ok
    local += (await inProcess(mesh, 1)).calls
    const amount = Math.max(10_000, Math.round(warm.rate * SECONDS))
    const localRates: number[] = []
    const localCpu: ReturnType<typeof cpuPerOp>[] = []
    const callRuns: Run[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const p = await inProcess(mesh, SECONDS)
      local += p.calls
      localRates.push(p.rate)
      localCpu.push(p.cpu)
      const r = await cannon({ ...call, connections: IN_FLIGHT, amount })
      http += r.ok
      callRuns.push(r)
    }
    console.log(
      `  ${`mesh.call in process, durable, ${IN_FLIGHT} in flight`.padEnd(40)} ${localRates
        .map((r) => fmt.format(r))
        .join(' / ')
        .padStart(26)} calls/s`,
    )
    line('gateway POST /v1/call, durable', callRuns)
    cpuLine('mesh.call in process', localCpu)
    cpuLine(
      'gateway call',
      callRuns.map((r) => r.cpu),
    )
    const cpuRatio = mainRatio(
      localCpu,
      callRuns.map((r) => r.cpu),
    )
    if (cpuRatio !== undefined)
      console.log(
        `  ratio by main-thread CPU per call, in process / over HTTP (the load generator left out): ${cpuRatio.toFixed(3)}x`,
      )
    const callRatio = median(callRuns.map((r, i) => r.rate / localRates[i]!))
    console.log(
      `  ratio gateway call vs in-process durable call (median of rounds): ${callRatio.toFixed(3)}x`,
    )
    target('HTTP call rate vs in-process (%)', callRatio * 100, 50, '%')

    const check = await mesh.lineage.verify()
    const byPrincipal = await mesh.billing.usage({ by: 'principal' })
    const charged = (p: string) => byPrincipal.find((r) => r.key === p)?.calls ?? 0
    const exact =
      check.ok &&
      check.completed === local + http &&
      check.charges === check.completed &&
      charged('http') === http &&
      charged('local') === local
    console.log(
      `  ledger: ${check.entries} entries, ${check.completed} COMPLETED, ${check.charges} charges, verify ${check.ok ? 'ok' : 'FAILED'}; ` +
        `successful calls ${local} in process + ${http} over HTTP; charges by principal local ${charged('local')}, http ${charged('http')}`,
    )
    console.log(
      `  ${exact ? 'exactly one COMPLETED entry and one charge per successful call' : 'MISMATCH between successful calls and the ledger'}`,
    )
    if (!exact) process.exitCode = 1
  } finally {
    bare.close()
    await mesh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
