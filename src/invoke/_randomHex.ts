import { randomFillSync } from 'node:crypto'

const pool = Buffer.alloc(4096)
let offset = pool.length

/** `n` random bytes as lowercase hex, from a pooled buffer refilled from the OS CSPRNG. */
export function randomHex(n: number): string {
  if (offset + n > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + n)
  offset += n
  return hex
}
