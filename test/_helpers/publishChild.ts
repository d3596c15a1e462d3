// A process that publishes distinct records into one Git registry directory, for the concurrent
// publisher tests (test/integration/gitRegistry.concurrentPublish.test.ts):
//   node --import tsx publishChild.ts <dir> <prefix> <count> [url]
// It prints `ready` once its registry is open, waits for a line on stdin (so that two children start
// publishing together), then prints one JSON line per publish ({ name, location, text } or
// { name, error }) and a last line { done, retries, mostAttempts }: how many times a publish found the
// branch moved and rebuilt its commit on the new tip, and the most attempts one publish took.
import { createInterface } from 'node:readline'
import { format } from 'node:util'
import debug from 'debug'
import { gitRegistry } from '../../registries/git/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { signRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { sampleDraft } from './records.js'

const [dir, prefix, countArg, url] = process.argv.slice(2)
const count = Number(countArg)
let retries = 0
let mostAttempts = 1
debug.enable('fmesh:registry:git:*')
debug.log = (...args: unknown[]) => {
  const moved = /branch moved \(attempt (\d+)\)/.exec(format(...args))
  if (moved === null) return
  retries++
  mostAttempts = Math.max(mostAttempts, Number(moved[1]) + 1)
}

const signer = await generateSigner()
const registry = gitRegistry({
  id: `git-${prefix}`,
  dir: dir!,
  ...(url === undefined ? {} : { url }),
  syncIntervalMs: 0,
})(registryComponents())
await registry.start()
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`)
print('ready')
const lines = createInterface({ input: process.stdin })
await new Promise((resolve) => lines.once('line', resolve))
lines.close()

const decoder = new TextDecoder()
for (let i = 0; i < count; i++) {
  const name = `acme.com/${prefix}/fn-${i}`
  const encoded = await signRecord(
    {
      ...sampleDraft(name),
      namespace: 'acme.com',
      seq: 1,
      issuedAt: new Date(Date.now() - 60_000).toISOString(),
      ttlSeconds: 300,
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      signatures: [],
    },
    signer,
  )
  try {
    const receipt = await registry.publish(encoded)
    print({ name, location: receipt.location, text: decoder.decode(encoded.bytes) })
  } catch (err) {
    print({ name, error: isMeshError(err) ? err.code : String(err) })
  }
}
await registry.stop()
print({ done: true, retries, mostAttempts })
