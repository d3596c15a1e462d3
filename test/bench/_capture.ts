import type { Row } from './_results.js'

/**
 * A `ratio ... N.NNx` line a bench printed itself (not through the harness's `ratio`), as a row:
 * the text before the number names it. Undefined for any other line.
 *
 * @example
 * ```ts
 * ratioFromLine('  ratio p95 propagation / raw gossipsub (3 nodes) 1.770x')
 * // { name: 'p95 propagation / raw gossipsub (3 nodes)', value: 1.77, unit: 'x', ratio: 1.77, note: ... }
 * ```
 */
export function ratioFromLine(line: string): Omit<Row, 'group'> | undefined {
  const m = /\bratio\b:?\s*(.*?)\s*(-?\d+(?:\.\d+)?)x(?![a-z])/i.exec(line)
  if (m === null) return undefined
  const value = Number(m[2])
  if (!Number.isFinite(value)) return undefined
  let name = m[1]!.replace(/[\s:;,=]+$/, '').replace(/\s+/g, ' ')
  if (name === '')
    name = line
      .slice(0, m.index)
      .replace(/[\s:;,]+$/, '')
      .replace(/\s+/g, ' ')
      .trim()
  return { name, value, unit: 'x', ratio: value, note: line.trim().replace(/\s+/g, ' ') }
}
