import { afterEach } from 'vitest'

const open: { close(): unknown }[] = []

// Registered in every test file that imports this helper: whatever a test opened is closed after
// it, even when an assertion failed half-way (a mesh's workers, a ledger's SQLite file).
afterEach(async () => {
  for (const resource of open.splice(0).reverse()) await resource.close()
})

/** Closes `resource` after the current test, pass or fail; returns it. `close` must be idempotent. */
export function closeAfter<T extends { close(): unknown }>(resource: T): T {
  open.push(resource)
  return resource
}
