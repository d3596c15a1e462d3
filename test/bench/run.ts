import '../../src/_polyfill.js'
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Runs every test/bench/*.bench.ts (or those named on the command line) one after another in this
// process. Each file default-exports an async function that measures and prints its figures, each
// beside a baseline measured in the same run.
const here = dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort()
for (const file of files) {
  if (only.length > 0 && !only.some((o) => file.includes(o))) continue
  console.log(`\n# ${file}`)
  const mod = (await import(join(here, file))) as { default: () => Promise<void> }
  await mod.default()
}
