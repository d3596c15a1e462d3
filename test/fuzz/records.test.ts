// Hostile input: names, name patterns, record bytes (JSON and canonical), signatures and did:keys.
// Every input either parses or fails with a MeshError whose code is in the list below; a record that
// verifies after a mutation is the very record that was signed (no forgery is ever accepted).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatFunctionName, normalizeRecordName, parseFunctionName } from '../../src/name.js'
import { canonicalBytes, MAX_RECORD_BYTES, parseRecordJson } from '../../src/record/codec.js'
import { validateRecord } from '../../src/record/validate.js'
import { compileNamePattern } from '../../src/registry/namePattern.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import {
  generateSigner,
  type LocalSigner,
  publicKeyFromKeyId,
  publicKeyObject,
} from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { NAME_CODES, PATTERN_CODES, RECORD_CODES } from './_codes.js'
import { fuzzParams, hostileBytes, meshCodeOf, meshCodeOfAsync } from './_fuzz.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const nameChars = fc.constantFrom(...'aAzZ09.-_/@^~<>=|*! \u00e9\u0131\u212a\u0000x'.split(''))
const nameLike = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.string({ unit: nameChars, maxLength: 80 }),
  fc
    .tuple(
      fc.domain(),
      fc.array(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,70}$/), { maxLength: 10 }),
      fc.string({ maxLength: 140 }),
    )
    .map(([ns, path, sel]) => `${ns}/${path.join('/')}@${sel}`),
)

describe('fuzz: names and name patterns', () => {
  it('parseFunctionName and normalizeRecordName: parse or E_NAME_INVALID / E_VERSION_SELECTOR_INVALID; a parsed name round-trips', () => {
    fc.assert(
      fc.property(nameLike, (input) => {
        let parsed: ReturnType<typeof parseFunctionName> | undefined
        meshCodeOf(() => {
          parsed = parseFunctionName(input)
        }, NAME_CODES)
        if (parsed !== undefined) expect(parseFunctionName(formatFunctionName(parsed))).toEqual(parsed)
        meshCodeOf(() => normalizeRecordName(input), NAME_CODES)
      }),
      fuzzParams(800),
    )
  })

  it('compileNamePattern: compiles (and matches without throwing) or E_PATTERN_INVALID', () => {
    const globChars = fc.constantFrom(...'a.-/*?{},[]!\\()+@$^'.split(''))
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: globChars, maxLength: 60 })),
        nameLike,
        (p, name) => {
          let match: ((name: string) => boolean) | undefined
          meshCodeOf(() => {
            match = compileNamePattern(p)
          }, PATTERN_CODES)
          if (match !== undefined) expect(typeof match(name)).toBe('boolean')
        },
      ),
      fuzzParams(500),
    )
  })
})

describe('fuzz: record bytes', () => {
  let signer: LocalSigner
  let good: Awaited<ReturnType<typeof signed>>
  let verifier: RecordVerifier
  let pooled: RecordVerifier
  beforeAll(async () => {
    signer = await generateSigner()
    good = await signed(signer, 'acme.com/image/sharpen', 3)
    const trust = [pinnedTrust({ 'acme.com': [signer.id] })]
    // No seen cache: every input goes through every check.
    verifier = new RecordVerifier({ trust, seenCacheSize: 0, workers: 0 })
    pooled = new RecordVerifier({ trust, seenCacheSize: 0, workers: 1, workerMinBatch: 8 })
  })
  afterAll(async () => {
    await pooled.close()
  })

  it('parseRecordJson and validateRecord: a plain object, or a record MeshError', () => {
    fc.assert(
      fc.property(hostileBytes(), (bytes) => {
        let raw: Record<string, unknown> | undefined
        meshCodeOf(() => {
          raw = parseRecordJson(bytes)
        }, RECORD_CODES)
        if (raw !== undefined) meshCodeOf(() => validateRecord(raw), RECORD_CODES)
      }),
      fuzzParams(300),
    )
  }, 90_000)

  it('canonicalBytes of any JSON value: bytes or E_RECORD_MALFORMED', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        meshCodeOf(() => canonicalBytes(value), ['E_RECORD_MALFORMED'])
      }),
      fuzzParams(500),
    )
  })

  it('oversize bytes are refused by size before they are decoded (E_RECORD_TOO_LARGE)', async () => {
    const huge = new Uint8Array(64 * 1024 * 1024).fill(0x5b) // '[' x 64 MiB: never parsed
    expect(meshCodeOf(() => parseRecordJson(huge), RECORD_CODES)).toBe('E_RECORD_TOO_LARGE')
    expect(await meshCodeOfAsync(() => verifier.verify(huge), RECORD_CODES)).toBe('E_RECORD_TOO_LARGE')
    expect(huge.byteLength).toBeGreaterThan(MAX_RECORD_BYTES)
  })

  /** A signed record changed somewhere: a field set to any JSON, a byte flipped, cut or inserted. */
  const mutated = () => {
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant('field' as const),
        path: fc.array(
          fc.oneof(
            fc.constantFrom(
              'name',
              'namespace',
              'seq',
              'versions',
              'signatures',
              '1.4.1',
              'providers',
              'descriptor',
              'keyId',
              'sig',
              'alg',
              'expiresAt',
              'issuedAt',
              'latestVersion',
              'extensions',
              '0',
              'cost',
              'baseUnits',
            ),
            fc.string({ maxLength: 8 }),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)),
      }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      }),
    )
    return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
      let bytes = good.bytes
      for (const e of edits) {
        if (e.kind === 'field') {
          const raw = JSON.parse(dec.decode(bytes)) as unknown
          let at = raw as Record<string, unknown>
          for (const key of e.path.slice(0, -1)) {
            const next = (at as Record<string, unknown>)[key]
            if (next === null || typeof next !== 'object') break
            at = next as Record<string, unknown>
          }
          if (e.value === undefined) delete at[e.path.at(-1)!]
          else at[e.path.at(-1)!] = e.value
          bytes = enc.encode(JSON.stringify(raw))
          try {
            JSON.parse(dec.decode(bytes))
          } catch {
            return bytes
          }
        } else {
          const copy = Buffer.from(bytes)
          const at = e.at % copy.byteLength
          if (e.kind === 'flip') {
            copy[at] = copy[at]! ^ e.xor
            bytes = copy
          } else if (e.kind === 'cut')
            bytes = Buffer.concat([copy.subarray(0, at), copy.subarray(at + e.length)])
          else bytes = Buffer.concat([copy.subarray(0, at), e.bytes, copy.subarray(at)])
          return bytes
        }
      }
      return bytes
    })
  }

  it('verify: a mutated signed record is refused with a record MeshError, or it is the very record signed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(), hostileBytes()), async (bytes) => {
        let out: Awaited<ReturnType<RecordVerifier['verify']>> | undefined
        await meshCodeOfAsync(async () => {
          out = await verifier.verify(bytes, { origin: 'fuzz' })
        }, RECORD_CODES)
        if (out !== undefined) expect(Buffer.from(out.bytes).equals(Buffer.from(good.bytes))).toBe(true)
      }),
      fuzzParams(300),
    )
  })

  it('verifyMany on the worker pool: every hostile record settles as a record MeshError (or the signed record)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(mutated(), hostileBytes(256)), { minLength: 8, maxLength: 24 }),
        async (batch) => {
          const results = await pooled.verifyMany(
            batch.map((bytes) => ({ bytes, options: { origin: 'fuzz' } })),
          )
          expect(results).toHaveLength(batch.length)
          for (const r of results) {
            if (r.status === 'fulfilled')
              expect(Buffer.from(r.value.bytes).equals(Buffer.from(good.bytes))).toBe(true)
            else await meshCodeOfAsync(() => Promise.reject(r.reason), RECORD_CODES)
          }
        },
      ),
      fuzzParams(15),
    )
  })

  it('signatures: any keyId and sig string is refused with E_SIGNATURE_INVALID, E_SIGNER_NOT_OWNER or a schema error', async () => {
    const keyId = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constant(signer.id),
      fc
        .string({
          unit: fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'.split('')),
          maxLength: 60,
        })
        .map((s) => `did:key:z${s}`),
      fc.integer({ min: 0, max: signer.id.length }).map((n) => signer.id.slice(0, n)),
    )
    const sig = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url')),
    )
    await fc.assert(
      fc.asyncProperty(keyId, sig, fc.constantFrom('ed25519', 'rsa', ''), async (k, s, alg) => {
        expect(() => publicKeyFromKeyId(k)).not.toThrow()
        expect(() => publicKeyObject(k)).not.toThrow()
        const raw = JSON.parse(dec.decode(good.bytes)) as { signatures: unknown[] }
        raw.signatures = [{ keyId: k, alg, sig: s }]
        const code = await meshCodeOfAsync(
          () => verifier.verify(enc.encode(JSON.stringify(raw))),
          RECORD_CODES,
        )
        expect(code).toBeDefined()
      }),
      fuzzParams(250),
    )
  })
})
