import { hash } from 'node:crypto'

/**
 * Hash-consing of JSON subtrees by the sha-256 of their JSON text: equal content gives one frozen
 * object, whoever holds it. The table holds its objects weakly, so it never keeps alive what no cache
 * entry uses, and a collected object's slot is removed by the finalizer: memory stays bounded by what
 * the entries hold.
 */
export class InternTable {
  private readonly table = new Map<string, WeakRef<object>>()
  private readonly cleanup = new FinalizationRegistry<string>((digest) => {
    // A slot may have been refilled by an equal object after the old one was collected.
    if (this.table.get(digest)?.deref() === undefined) this.table.delete(digest)
  })

  /**
   * The shared, deep-frozen copy of `value`'s content. The first of a content is a copy, so the
   * caller's own object is never frozen under it.
   */
  intern<T extends object>(value: T): T {
    const digest = digestOf(value)
    const held = this.table.get(digest)?.deref()
    if (held !== undefined) return held as T
    const copy = deepFrozenCopy(value)
    this.table.set(digest, new WeakRef(copy))
    this.cleanup.register(copy, digest)
    return copy
  }

  /** Distinct subtrees held (collected ones may linger until their finalizer runs). */
  get size(): number {
    return this.table.size
  }
}

/**
 * The digest of a JSON value's text as given (key order included): equal text is equal content in
 * the same order, so a shared copy is exactly what it stands for; the same content in another key
 * order is merely not shared.
 */
function digestOf(value: unknown): string {
  return hash('sha256', JSON.stringify(value), 'base64')
}

/** A frozen copy of a JSON value; frozen parts (already shared) are kept as they are. */
function deepFrozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  if (Array.isArray(value)) return Object.freeze(value.map(deepFrozenCopy)) as T
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue
    // An own `__proto__` key (JSON may hold one) must stay a key, not become the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: deepFrozenCopy(child),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else out[key] = deepFrozenCopy(child)
  }
  return Object.freeze(out) as T
}
