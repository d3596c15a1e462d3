// Hostile input: config files (src/preset/config.ts). Any text, any JSON, any registries entry: a
// LoadedConfig, or E_CONFIG_INVALID naming the path; a file too large for a config is refused by its
// size before it is read.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConfig, loadConfig, MAX_CONFIG_BYTES } from '../../src/preset/config.js'
import { CONFIG_CODES } from './_codes.js'
import { fuzzParams, meshCodeOfAsync } from './_fuzz.js'

describe('fuzz: config files', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fmesh-fuzz-config-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const registry = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.record(
      {
        type: fc.oneof(fc.constantFrom('git', 'ipfs', 'chain', 'memory', 'peer', ''), fc.string()),
        id: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()),
        dir: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()),
        url: fc.oneof(fc.webUrl(), fc.string(), fc.jsonValue()),
        rpcUrl: fc.oneof(fc.webUrl(), fc.string()),
        address: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{0,40}$/), fc.string()),
        remote: fc.oneof(fc.webUrl(), fc.string()),
        branch: fc.string({ maxLength: 10 }),
        publishers: fc.array(fc.string(), { maxLength: 3 }),
      },
      { requiredKeys: ['type'] },
    ),
  )
  const config = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record(
      {
        dataDir: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()),
        registries: fc.oneof(fc.array(registry, { maxLength: 3 }), fc.jsonValue()),
        trust: fc.oneof(
          fc.record({ owners: fc.dictionary(fc.string(), fc.oneof(fc.array(fc.string()), fc.jsonValue())) }),
          fc.jsonValue(),
        ),
        lookupTimeoutMs: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
        cache: fc.oneof(
          fc.record({ max: fc.integer(), maxTtlSeconds: fc.double() }, { requiredKeys: [] }),
          fc.jsonValue(),
        ),
        unknownKey: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  )

  it('checkConfig: a config, or E_CONFIG_INVALID', async () => {
    await fc.assert(
      fc.asyncProperty(config, async (value) => {
        await meshCodeOfAsync(() => checkConfig(value, dir), CONFIG_CODES)
      }),
      fuzzParams(800),
    )
  })

  it('loadConfig: any file text (JSON with comments, or not) loads or fails with E_CONFIG_INVALID', async () => {
    const file = join(dir, 'fmesh.json')
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      config.map((v) => JSON.stringify(v) ?? ''),
      config.map((v) => `// a comment\n${JSON.stringify(v, null, 2)},`),
      fc.integer({ min: 1, max: 5000 }).map((n) => '{"a":'.repeat(n)),
    )
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        await writeFile(file, t)
        await meshCodeOfAsync(() => loadConfig(file), CONFIG_CODES)
      }),
      fuzzParams(300),
    )
  })

  it('regression: a config nested 150,000 deep is E_CONFIG_INVALID (was a RangeError from jsonc-parser)', async () => {
    const file = join(dir, 'deep.json')
    // Deep enough to overflow any thread's stack (where it overflows depends on the stack left).
    await writeFile(file, '{"a":'.repeat(150_000))
    const err = await loadConfig(file).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID' })
    expect(String((err as { details: { rule: string } }).details.rule)).toMatch(/^not JSON/)
  })

  it('a file over MAX_CONFIG_BYTES is refused by its size (E_CONFIG_INVALID), not read', async () => {
    const file = join(dir, 'huge.json')
    await writeFile(file, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20))
    expect(await meshCodeOfAsync(() => loadConfig(file), CONFIG_CODES)).toBe('E_CONFIG_INVALID')
  })
})
