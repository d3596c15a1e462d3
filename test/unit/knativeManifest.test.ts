import { describe, expect, it } from 'vitest'
import { knativeName, toYaml } from '../../src/cli/manifestCommand.js'

describe('fmesh manifest helpers', () => {
  it('derives a DNS-1035 service name that leaves room for a revision suffix and keeps long names apart', () => {
    expect(knativeName('acme.com/image/sharpen', '1.2.0')).toBe('acme-com-image-sharpen-v1-2-0')
    expect(knativeName('9lives.io/x', '1.0.0')).toBe('fn-9lives-io-x-v1-0-0')
    const long = (tail: string) => knativeName(`acme.com/${'very-long-path/'.repeat(6)}${tail}`, '1.0.0')
    for (const name of [long('a'), long('b')]) {
      expect(name.length).toBeLessThanOrEqual(57)
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/)
    }
    expect(long('a')).not.toBe(long('b'))
  })

  it('writes YAML with every string double-quoted, empty collections inline, nested lists indented', () => {
    expect(
      toYaml({ a: [], b: {}, 'odd key': 'x: "y"\n#z', c: [{ d: [1, 2], e: null }, 'f', [3]], g: true }),
    ).toBe(
      [
        'a: []',
        'b: {}',
        '"odd key": "x: \\"y\\"\\n#z"',
        'c:',
        '  - d:',
        '      - 1',
        '      - 2',
        '    e: null',
        '  - "f"',
        '  - - 3',
        'g: true',
        '',
      ].join('\n'),
    )
  })
})
