import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyInclusion } from '../src/ledger/checkpoint.js'
import { CLI_TEST_TIMEOUT_MS, cleanEnv, runCli } from './_helpers/cli.js'
import { refusedUrl, startHttpProvider } from './_helpers/httpProvider.js'
import { startGateway } from './gateway/_gateway.js'

let dir: string
let provider: Awaited<ReturnType<typeof startHttpProvider>>
let key: string
const cli = (args: string[], cwd = dir) => runCli(args, { cwd, env: cleanEnv() })
const json = async (args: string[], cwd = dir) => {
  const r = await cli([...args, '--json'], cwd)
  if (r.code !== 0) throw new Error(`fmesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

const version = (endpoint: string) => ({
  descriptor: {
    maxRisk: 'read-only',
    idempotency: 'idempotent',
    allowedByDefault: true,
    inputSchema: { type: 'object' },
  },
  providers: [{ id: 'p1', endpoint, cost: { unit: 'USDC', baseUnits: '2000' }, avgResponseTimeMs: 50 }],
})

// One data dir: `init`, then two functions, one whose provider answers and one that refuses.
beforeAll(async () => {
  provider = await startHttpProvider()
  dir = await mkdtemp(join(tmpdir(), 'fmesh-ops-'))
  key = (await json(['init', '--namespace', 'acme.com'])).key.file
  for (const [name, path] of [
    ['acme.com/image/sharpen', '/ok'],
    ['acme.com/image/broken', '/refuse'],
  ] as const) {
    await writeFile(
      join(dir, 'draft.json'),
      JSON.stringify({ name, latestVersion: '1.0.0', versions: { '1.0.0': version(provider.url(path)) } }),
    )
    await json(['publish', 'draft.json', '--key', key])
  }
})
afterAll(async () => {
  await provider.close()
  await rm(dir, { recursive: true, force: true })
})

describe('fmesh calls and fmesh lineage show | proof', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('lists calls newest first with outcome and charge, shows one call, proves an entry', async () => {
    // Before any call there is no ledger: nothing is listed and nothing is created.
    expect(await json(['calls'])).toEqual({ calls: [] })
    const ok = await json([
      'call',
      'acme.com/image/sharpen',
      '--input',
      '{"image":"x"}',
      '--principal',
      'ann',
    ])
    const failed = await cli(['call', 'acme.com/image/broken', '--input', '{"image":"x"}'])
    expect(failed.code).not.toBe(0)
    const { calls } = await json(['calls'])
    expect(calls.map((c: { function: string; outcome: string }) => [c.function, c.outcome])).toEqual([
      ['acme.com/image/broken', 'failed'],
      ['acme.com/image/sharpen', 'completed'],
    ])
    expect(calls[1]).toMatchObject({
      invocation: ok.invocationId,
      version: '1.0.0',
      provider: 'p1',
      principal: 'ann',
      charge: { amount: '2000', currency: 'USDC' },
      error: null,
    })
    expect(typeof calls[1].durationMs).toBe('number')
    // The provider's own refusal (HTTP 400), as the ledger recorded the failed attempt.
    expect(calls[0].error.code).toBe('E_PROVIDER_FAILED')
    expect(
      (await json(['calls', '--failed', '--limit', '5'])).calls.map((c: { outcome: string }) => c.outcome),
    ).toEqual(['failed'])
    const text = await cli(['calls', '--principal', 'ann'])
    expect(text.stdout).toContain('completed')
    expect(text.stdout).toContain('2000 USDC')
    expect(text.stdout.trim().endsWith('1 call')).toBe(true)
    const badLimit = await cli(['calls', '--limit', 'lots'])
    expect([badLimit.code, badLimit.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: --limit must be a whole number from 1 to 10000, not lots',
    ])

    const shown = await json(['lineage', 'show', ok.invocationId])
    expect(shown.entries.map((e: { entry: { type: string } }) => e.entry.type)).toEqual([
      'FUNCTION_INVOKED',
      'FUNCTION_COMPLETED',
    ])
    expect(shown.entries[1].id).toBe(ok.lineage.completed)
    const missing = await cli(['lineage', 'show', 'no-such-invocation'])
    expect(missing.code).toBe(3)

    const proof = JSON.parse((await cli(['lineage', 'proof', ok.lineage.completed])).stdout)
    expect(proof.verified).toBe(true)
    const { verified: _, ...inclusion } = proof
    expect(verifyInclusion(inclusion, { keyId: proof.checkpoint.keyId })).toBe(true)
    expect(proof.checkpoint.treeSize).toBeGreaterThan(proof.leafIndex)
    expect((await cli(['lineage', 'proof', 'bafynotanentry'])).code).toBe(3)
  })
})

describe('fmesh keys new | list | export-public', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('keeps new keys in <dataDir>/keys (0600), lists key files by id, exports only the public half', async () => {
    const made = await json(['keys', 'new'])
    expect(made.file).toBe(join(dir, '.fmesh', 'keys', `${made.id.slice(-12)}.jwk`))
    expect(Object.keys(made).sort()).toEqual(['file', 'id'])
    expect((await stat(made.file)).mode & 0o777).toBe(0o600)
    const text = await cli(['keys', 'new'])
    expect(text.stdout).not.toContain('"d"')
    await writeFile(join(dir, 'junk.jwk'), 'not json')

    const { keys } = await json(['keys', 'list'])
    const ids = keys.map((k: { id?: string }) => k.id)
    expect(ids).toContain(made.id)
    // `init --namespace acme.com` wrote acme.com.jwk in the current directory.
    expect(keys.find((k: { file: string }) => k.file === key)).toMatchObject({ private: true })
    expect(keys.find((k: { file: string }) => k.file.endsWith('junk.jwk')).error).toMatch(/not JSON/)
    expect(JSON.stringify(keys)).not.toMatch(/"d"/)

    const pub = await json(['keys', 'export-public', made.file])
    expect(pub).toEqual({
      id: made.id,
      jwk: { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: made.id },
    })
    const printed = await json(['keys', 'new', '--print'])
    expect(printed.jwk.d).toEqual(expect.any(String))
    const missing = await cli(['keys', 'export-public', 'nope.jwk'])
    expect([missing.code, missing.stderr.split('\n')[0]]).toEqual([
      2,
      `error E_FILE_READ: Cannot read the key file ${join(dir, 'nope.jwk')}`,
    ])
    const junk = await cli(['keys', 'export-public', 'junk.jwk'])
    expect(junk.code).toBe(2)
  })
})

describe('fmesh dispatch', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('dispatches through a running gateway; without one, answers zero matches honestly', async () => {
    const g = await startGateway()
    try {
      g.mesh.marketplace.register(
        {
          name: 'acme.com/events/audit',
          version: '1.0.0',
          triggerEvents: ['order.created'],
          cost: { unit: 'USDC', baseUnits: '3' },
        },
        (event: unknown) => ({ seen: event }),
      )
      await writeFile(join(dir, 'event.json'), '{"order":7}')
      const sent = await json([
        'dispatch',
        'order.created',
        '--event',
        '@event.json',
        '--gateway',
        g.url,
        '--token',
        g.token,
      ])
      expect(sent).toMatchObject({
        kind: 'order.created',
        via: `${g.url}/`,
        results: [
          {
            name: 'acme.com/events/audit',
            ok: true,
            result: { output: { seen: { order: 7 } }, charge: { amount: '3' } },
          },
        ],
      })
      const forbidden = await cli(['dispatch', 'order.created', '--gateway', g.url, '--token', g.callOnly])
      expect([forbidden.code, forbidden.stderr.split('\n')[0]]).toEqual([
        4,
        'error E_FORBIDDEN: The gateway refused the dispatch (HTTP 403): The token of reader may not dispatch',
      ])
    } finally {
      await g.close()
    }
    expect(await json(['dispatch', 'order.created', '--event', '{"order":8}'])).toEqual({
      kind: 'order.created',
      via: 'local',
      results: [],
    })
    const gone = await cli(['dispatch', 'order.created', '--gateway', await refusedUrl(), '--token', 'x'])
    expect([gone.code, gone.stderr.split('\n')[0]]).toEqual([
      1,
      expect.stringMatching(/^error E_GATEWAY_UNREACHABLE: /),
    ])
    const badEvent = await cli(['dispatch', 'order.created', '--event', '{nope'])
    expect([badEvent.code, badEvent.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_INPUT_NOT_JSON: The --event value is not JSON',
    ])
  })
})

describe('fmesh manifest --knative', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('prints a Knative Service for the chosen HTTP provider, as YAML text or JSON', async () => {
    const text = await cli([
      'manifest',
      'acme.com/image/sharpen@^1',
      '--knative',
      '--image',
      'ghcr.io/acme/sharpen:1',
    ])
    expect(text.code).toBe(0)
    const { recordId } = await json(['resolve', 'acme.com/image/sharpen'])
    const endpoint = provider.url('/ok')
    expect(text.stdout).toBe(
      [
        'apiVersion: "serving.knative.dev/v1"',
        'kind: "Service"',
        'metadata:',
        '  name: "acme-com-image-sharpen-v1-0-0"',
        '  labels:',
        '    app.kubernetes.io/name: "acme-com-image-sharpen-v1-0-0"',
        '    app.kubernetes.io/managed-by: "fmesh"',
        '  annotations:',
        '    function-mesh.dev/function: "acme.com/image/sharpen"',
        '    function-mesh.dev/version: "1.0.0"',
        `    function-mesh.dev/record-id: "${recordId}"`,
        '    function-mesh.dev/provider: "p1"',
        `    function-mesh.dev/endpoint: "${endpoint}"`,
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - image: "ghcr.io/acme/sharpen:1"',
        '          ports:',
        '            - containerPort: 8080',
        '          env:',
        '            - name: "FMESH_FUNCTION"',
        '              value: "acme.com/image/sharpen"',
        '            - name: "FMESH_VERSION"',
        '              value: "1.0.0"',
        '            - name: "FMESH_PROVIDER"',
        '              value: "p1"',
        '            - name: "FMESH_ENDPOINT"',
        `              value: "${endpoint}"`,
        '            - name: "FMESH_RECORD_ID"',
        `              value: "${recordId}"`,
        '',
      ].join('\n'),
    )
    const doc = await json([
      'manifest',
      'acme.com/image/sharpen',
      '--knative',
      '--image',
      'x',
      '--service-name',
      'sharpen',
      '--port',
      '9000',
    ])
    expect(doc).toMatchObject({
      name: 'acme.com/image/sharpen',
      version: '1.0.0',
      recordId,
      provider: { id: 'p1', endpoint },
      manifest: {
        metadata: { name: 'sharpen' },
        spec: { template: { spec: { containers: [{ image: 'x', ports: [{ containerPort: 9000 }] }] } } },
      },
    })
    const noImage = await cli(['manifest', 'acme.com/image/sharpen', '--knative'])
    expect([noImage.code, noImage.stderr.split('\n')[0]]).toEqual([
      2,
      'error E_USAGE: --image is required: the container image that serves the function',
    ])
    expect((await cli(['manifest', 'acme.com/image/missing', '--knative', '--image', 'x'])).code).toBe(3)
  })
})
