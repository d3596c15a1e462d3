// Faults: a registry down, slow or flapping.
// - A real Git HTTP server on 127.0.0.1 stopped and restarted between publishes (flapping): the
//   reading registry keeps answering from its last index, never loses a published record once a
//   sync succeeds, and serves the newest seq after every successful sync.
// - The resolver's cache in front of a registry that fails, hangs or is slow, on a fake clock: no
//   answer is served past its record's TTL plus the stale-if-error window, and a hanging registry
//   never holds a resolve past its deadline.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { fakeClock } from '../_helpers/clock.js'
import { controlledRegistry } from '../_helpers/controlledRegistry.js'
import { seededRandom } from '../_helpers/crashSoak.js'
import { startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import type { FaultReport } from './_audit.js'
import { DEADLINE_GRACE_MS } from './providers.js'

const NAME = 'acme.com/image/sharpen'

export async function gitFlappingFault(
  options: { rounds?: number; seed?: number } = {},
): Promise<FaultReport> {
  const rounds = options.rounds ?? 6
  const random = seededRandom(options.seed ?? 15)
  const root = await mkdtemp(join(tmpdir(), 'fmesh-fault-git-'))
  const server = await startGitHttpServer({ root: join(root, 'srv') })
  const problems: string[] = []
  let lost = 0
  let staleServed = 0
  let calls = 0
  try {
    const url = await server.createRepo('records.git')
    const key = await generateSigner()
    const owners = { 'acme.com': [key.id] }
    const writer = gitRegistry({ id: 'git-w', dir: join(root, 'w'), url, syncIntervalMs: 0, signer: key })(
      registryComponents({ trust: { owners } }),
    )
    const reader = gitRegistry({ id: 'git-r', dir: join(root, 'r'), url, syncIntervalMs: 0 })(
      registryComponents({ trust: { owners } }),
    )
    await writer.start()
    const mesh = await createMesh({ registries: [reader], trust: { owners }, dataDir: join(root, 'mesh') })
    try {
      let published = 0
      let synced = 0
      for (let round = 0; round < rounds; round++) {
        // Up: publish the next seq. Then down or up at random while the reader syncs and resolves.
        published++
        await writer.publish(await signed(key, NAME, published, { description: `seq ${published}` }))
        const down = random() < 0.5
        if (down) await server.stop()
        calls++
        try {
          await reader.sync()
          if (down) problems.push('a sync succeeded while the server was down')
          synced = published
        } catch (err) {
          if (!isMeshError(err, 'E_GIT_REMOTE')) problems.push(`sync failed with ${(err as Error)?.message}`)
        }
        calls++
        try {
          const answer = await mesh.resolve(NAME, { cache: 'refresh' })
          // After a successful sync the newest seq; after a failed one, the last synced (never older).
          if (answer.record.seq < synced) {
            staleServed++
            problems.push(`round ${round}: served seq ${answer.record.seq} after seq ${synced} synced`)
          }
        } catch (err) {
          if (synced > 0) {
            lost++
            problems.push(
              `round ${round}: seq ${synced} was synced but resolve failed: ${(err as Error).message}`,
            )
          }
        }
        if (down) await server.restart()
      }
      // Up for good: one sync brings everything.
      await reader.sync()
      calls++
      const final = await mesh.resolve(NAME, { cache: 'refresh' })
      if (final.record.seq !== published) {
        lost++
        problems.push(`after the outages the reader serves seq ${final.record.seq}, not ${published}`)
      }
    } finally {
      await mesh.close()
      await writer.stop()
    }
    return {
      fault: 'git registry server down and flapping',
      checked: `${rounds} publishes on a real git HTTP server stopped at random between them; reader synced and resolved each round`,
      calls,
      lost,
      doubleCharges: 0,
      brokeDeadline: 0,
      staleServed,
      problems,
    }
  } finally {
    await server.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  }
}

/**
 * The cache in front of a flapping registry, on a fake clock: each step moves time on and sets the
 * registry ok, failing, hanging or slow; sometimes a newer seq is published. An answer with a seq
 * older than the registry's newest is stale past its window when more than TTL + stale-if-error has
 * passed since the newer seq appeared (an entry holding the older seq was stored before that).
 */
export async function cacheFlappingFault(
  options: { steps?: number; seed?: number } = {},
): Promise<FaultReport> {
  const steps = options.steps ?? 200
  const random = seededRandom(options.seed ?? 1515)
  const clock = fakeClock()
  const registry = controlledRegistry('flappy')
  const key = await generateSigner()
  const ttlSeconds = 300
  const staleIfErrorSeconds = 120
  const mesh = await createMesh({
    registries: [registry],
    trust: { owners: { 'acme.com': [key.id] } },
    clock,
    cache: { staleIfErrorSeconds },
  })
  const problems: string[] = []
  let staleServed = 0
  let brokeDeadline = 0
  let lost = 0
  let calls = 0
  let seq = 1
  const sign = (n: number) =>
    signed(key, NAME, n, {}).then(async (r) => {
      // The record's issuedAt/expiresAt come from the system clock; re-sign around the fake clock.
      const { signRecord } = await import('../../src/record/signRecord.js')
      return signRecord(
        {
          ...r.record,
          seq: n,
          ttlSeconds,
          issuedAt: new Date(clock.now() - 1000).toISOString(),
          expiresAt: new Date(clock.now() + 30 * 86_400_000).toISOString(),
          signatures: [],
        },
        key,
      )
    })
  registry.put(NAME, (await sign(seq)).bytes)
  let newerSince: number | undefined
  try {
    for (let step = 0; step < steps; step++) {
      clock.advance(Math.floor(random() * 90_000))
      const r = random()
      registry.mode = r < 0.5 ? 'ok' : r < 0.8 ? 'fail' : 'hang'
      if (random() < 0.1) {
        seq++
        registry.put(NAME, (await sign(seq)).bytes)
        newerSince ??= clock.now()
      }
      calls++
      const started = performance.now()
      const deadlineMs = 300
      try {
        const answer = await mesh.resolve(NAME, { signal: AbortSignal.timeout(deadlineMs) })
        if (answer.record.seq === seq) newerSince = undefined
        else if (
          newerSince !== undefined &&
          clock.now() > newerSince + (ttlSeconds + staleIfErrorSeconds) * 1000
        ) {
          staleServed++
          problems.push(
            `step ${step}: served seq ${answer.record.seq} ${(clock.now() - newerSince) / 1000} s after seq ${seq} appeared`,
          )
        }
      } catch (err) {
        if (!isMeshError(err))
          problems.push(`step ${step}: resolve failed with a non-MeshError: ${(err as Error)?.stack}`)
        else if (registry.mode === 'ok') {
          lost++
          problems.push(`step ${step}: the registry answered but resolve failed: ${err.code}`)
        }
      } finally {
        const elapsed = performance.now() - started
        if (elapsed > deadlineMs + DEADLINE_GRACE_MS) {
          brokeDeadline++
          problems.push(
            `step ${step}: resolve settled after ${Math.round(elapsed)} ms (deadline ${deadlineMs} ms)`,
          )
        }
      }
    }
  } finally {
    await mesh.close()
  }
  return {
    fault: 'registry failing, hanging, flapping (resolver cache)',
    checked: `${steps} resolves on a fake clock against a registry set ok / failing / hanging at random, ${seq} seqs published`,
    calls,
    lost,
    doubleCharges: 0,
    brokeDeadline,
    staleServed,
    problems,
  }
}
