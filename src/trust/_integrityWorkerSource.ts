import { jsonCid, stringifiesCanonically } from '../record/codec.js'

/**
 * The integrity worker, as source text started with `new Worker(source, { eval: true })`, so it loads
 * the same way under vitest, tsx and the compiled `dist/` (a worker thread has none of those loaders).
 * It imports only node built-ins and, by the absolute URLs the main thread resolved and passed in
 * `workerData`, the same `canonicalize` and multiformats' base58 the main thread uses.
 *
 * Each message is a batch: the records' bytes concatenated in one transferred ArrayBuffer, with their
 * end offsets. For each record the worker runs the integrity half of verification, a pure function of
 * the bytes, mirroring `parseRecordJson` and `recordForms` in `src/record/codec.ts` step for step:
 * size, UTF-8, JSON, the top-level object and versions count, one canonicalization per top-level
 * member, the CID of the canonical bytes, and ed25519 verification of every signature whose key id is
 * an ed25519 did:key. It answers with the ids, the key ids whose signatures verified, the canonical
 * bytes (concatenated, transferred back) and, for a record that fails, the error's code and
 * constructor arguments, which the main thread turns back into the same MeshError.
 */
export const INTEGRITY_WORKER_SOURCE = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createPublicKey, hash, verify } = require('node:crypto')
const { urls, domain, maxVersions } = workerData
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const keys = new Map()
let lib

const loading = Promise.all([import(urls.canonicalize), import(urls.base58)]).then(([c, base58]) => {
  lib = { canonicalize: c.default, base58btc: base58.base58btc }
})

class Refusal {
  constructor(code, args) {
    this.code = code
    this.args = args
  }
}

function causeOf(err) {
  return { name: err && err.name, message: err && err.message }
}

function parse(bytes, maxBytes) {
  if (bytes.byteLength > maxBytes) throw new Refusal('E_RECORD_TOO_LARGE', [bytes.byteLength, maxBytes])
  let text
  try {
    text = decoder.decode(bytes)
  } catch (err) {
    throw new Refusal('E_RECORD_MALFORMED', ['not UTF-8', causeOf(err)])
  }
  let value
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Refusal('E_RECORD_MALFORMED', [err instanceof RangeError ? 'nested too deeply' : err.message, causeOf(err)])
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Refusal('E_RECORD_MALFORMED', ['the top level must be a JSON object'])
  }
  const versions = value.versions
  if (versions !== null && typeof versions === 'object') {
    const count = Object.keys(versions).length
    if (count > maxVersions) throw new Refusal('E_RECORD_LIMIT', ['versions', count, maxVersions])
  }
  return value
}

${stringifiesCanonically.toString()}

${jsonCid.toString()}

function canonicalText(value) {
  let text
  try {
    text = stringifiesCanonically(value) ? JSON.stringify(value) : lib.canonicalize(value)
  } catch (err) {
    throw new Refusal('E_RECORD_MALFORMED', [err instanceof RangeError ? 'nested too deeply' : err.message, causeOf(err)])
  }
  if (text === undefined) throw new Refusal('E_RECORD_MALFORMED', ['value has no JSON form'])
  return text
}

function forms(raw) {
  const all = []
  const unsigned = []
  for (const key of Object.keys(raw).sort()) {
    const value = raw[key]
    if (value === undefined) continue
    const member = canonicalText(key) + ':' + canonicalText(value)
    all.push(member)
    if (key !== 'signatures') unsigned.push(member)
  }
  const body = '{' + unsigned.join(',') + '}'
  const payload = encoder.encode(domain + body)
  const canonical = all.length === unsigned.length ? encoder.encode(body) : encoder.encode('{' + all.join(',') + '}')
  return { payload, canonical }
}

function keyObject(keyId) {
  let key = keys.get(keyId)
  if (key !== undefined) return key
  key = null
  if (keyId.startsWith('did:key:z') && keyId.length <= 64) {
    try {
      const bytes = lib.base58btc.decode(keyId.slice('did:key:'.length))
      if (bytes.length === 34 && bytes[0] === 0xed && bytes[1] === 0x01) {
        key = createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(bytes.subarray(2)).toString('base64url') },
          format: 'jwk',
        })
      }
    } catch {
      key = null
    }
  }
  if (keys.size >= 4096) keys.delete(keys.keys().next().value)
  keys.set(keyId, key)
  return key
}

function check(bytes, maxBytes) {
  const raw = parse(bytes, maxBytes)
  const { payload, canonical } = forms(raw)
  const id = jsonCid(hash('sha256', canonical, 'binary'))
  const good = []
  const signatures = Array.isArray(raw.signatures) ? raw.signatures : []
  for (const s of signatures) {
    if (s === null || typeof s !== 'object' || typeof s.keyId !== 'string' || typeof s.sig !== 'string') continue
    const key = keyObject(s.keyId)
    if (key === null) continue
    let ok = false
    try {
      ok = verify(null, payload, key, Buffer.from(s.sig, 'base64url'))
    } catch {
      ok = false
    }
    if (ok) good.push(s.keyId)
  }
  return { id, canonical, good }
}

parentPort.on('message', async (batch) => {
  await loading
  const input = new Uint8Array(batch.buf)
  const results = []
  const outs = []
  let start = 0
  let size = 0
  for (const end of batch.ends) {
    const bytes = input.subarray(start, end)
    start = end
    try {
      const r = check(bytes, batch.maxBytes)
      results.push({ id: r.id, length: r.canonical.byteLength, good: r.good })
      outs.push(r.canonical)
      size += r.canonical.byteLength
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      results.push({ code: err.code, args: err.args })
    }
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const bytes of outs) {
    out.set(bytes, at)
    at += bytes.byteLength
  }
  parentPort.postMessage({ seq: batch.seq, results, buf: out.buffer }, [out.buffer])
})
`
