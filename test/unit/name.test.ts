import fc from 'fast-check'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { formatFunctionName, normalizeRecordName, parseFunctionName } from '../../src/name.js'

function codeOf(fn: () => unknown): { code: string; rule: unknown } {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError)
    return { code: (err as MeshError).code, rule: (err as MeshError).details.rule }
  }
  throw new Error('expected a MeshError')
}

describe('parseFunctionName', () => {
  it('parses a vendor namespace, a path and a caret range', () => {
    expect(parseFunctionName('acme.com/image/sharpen@^1.2')).toEqual({
      namespace: 'acme.com',
      path: 'image/sharpen',
      name: 'acme.com/image/sharpen',
      selector: { kind: 'range', range: '>=1.2.0 <2.0.0-0', raw: '^1.2' },
    })
  })

  it('parses a bare namespace and defaults to latest', () => {
    expect(parseFunctionName('image-processing/sharpen')).toMatchObject({
      namespace: 'image-processing',
      path: 'sharpen',
      selector: { kind: 'latest' },
    })
  })

  it('parses reversed-domain namespaces and exact versions, normalizing case and a v prefix', () => {
    const n = parseFunctionName('IO.GitHub.Alice/Tools/Fmt@v1.2.3')
    expect(n).toMatchObject({
      namespace: 'io.github.alice',
      path: 'tools/fmt',
      selector: { kind: 'exact', version: '1.2.3' },
    })
    expect(formatFunctionName(n)).toBe('io.github.alice/tools/fmt@1.2.3')
  })

  it('parses tilde, comparator and x ranges, and latest spelled out', () => {
    expect(parseFunctionName('a/b@~1.2.3').selector).toMatchObject({
      kind: 'range',
      range: '>=1.2.3 <1.3.0-0',
    })
    expect(parseFunctionName('a/b@>=1 <2').selector).toMatchObject({ kind: 'range', raw: '>=1 <2' })
    expect(parseFunctionName('a/b@1.x').selector).toMatchObject({ kind: 'range' })
    expect(parseFunctionName('a/b@LATEST').selector).toEqual({ kind: 'latest' })
  })

  it.each([
    ['', 'empty'],
    ['sharpen', 'path-required'],
    ['/sharpen', 'namespace-empty'],
    ['acme.com/', 'path-empty'],
    ['acme..com/x', 'namespace-label'],
    ['-acme.com/x', 'namespace-label'],
    ['acme_co/x', 'namespace-label'],
    ['acme.com/image//sharpen', 'path-segment'],
    ['acme.com/image/../etc', 'path-segment'],
    ['acme.com/ima ge', 'path-segment'],
    ['acme.com/image/sharpen-', 'path-segment'],
    ['acme.com/a/b/c/d/e/f/g/h/i', 'path-segments'],
    [`acme.com/${'x'.repeat(65)}`, 'segment-length'],
    [`${'a'.repeat(64)}.com/x`, 'namespace-label'],
    [`acme.com/${'x/'.repeat(200)}x`, 'length'],
    ['x'.repeat(600), 'length'],
    ['acme.com/résumé', 'path-segment'],
  ])('error: refuses %j (rule %s)', (input, rule) => {
    expect(codeOf(() => parseFunctionName(input))).toEqual({ code: 'E_NAME_INVALID', rule })
  })

  it.each(['a/b@', 'a/b@not a range', 'a/b@^1.2;rm', 'a/b@ 1.2.0', 'a/b@1.2.0@2'])(
    'error: refuses the version selector of %j',
    (input) => {
      expect(codeOf(() => parseFunctionName(input))).toEqual({
        code: 'E_VERSION_SELECTOR_INVALID',
        rule: 'version-selector',
      })
    },
  )

  it('error: refuses a non-string', () => {
    expect(codeOf(() => parseFunctionName(42 as unknown as string)).code).toBe('E_NAME_INVALID')
  })

  it('pins the message a user sees', () => {
    let thrown: unknown
    try {
      parseFunctionName('acme_co/x')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(MeshError)
    expect((thrown as Error).message).toMatchInlineSnapshot(`
        "Invalid function name "acme_co/x": namespace label "acme_co" must be 1-63 of a-z, 0-9 and "-", not starting or ending with "-"
          name: acme_co/x
          rule: namespace-label

        A name is NAMESPACE/PATH[@VERSION], e.g. acme.com/image/sharpen@^1.2 or image-processing/sharpen."
      `)
  })

  it('normalizeRecordName refuses a selector', () => {
    expect(normalizeRecordName('Acme.com/X')).toBe('acme.com/x')
    expect(codeOf(() => normalizeRecordName('acme.com/x@1.0.0')).rule).toBe('no-selector')
  })
})

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/)
const segment = fc.stringMatching(/^[a-z0-9](?:[a-z0-9_-]{0,10}[a-z0-9])?$/)
const version = fc
  .tuple(
    fc.nat(20),
    fc.nat(20),
    fc.nat(20),
    fc.option(fc.constantFrom('alpha.1', 'beta', 'rc.2'), { nil: undefined }),
  )
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`)
const selector = fc.oneof(
  fc.constant(''),
  fc.constant('@latest'),
  version.map((v) => `@${v}`),
  version.map((v) => `@^${v}`),
  version.map((v) => `@~${v}`),
  fc.tuple(fc.nat(9), fc.nat(9)).map(([a, b]) => `@>=${a} <${a + b + 1}`),
  fc.nat(9).map((a) => `@${a}.x`),
)
const nameText = fc
  .tuple(
    fc.array(label, { minLength: 1, maxLength: 3 }),
    fc.array(segment, { minLength: 1, maxLength: 4 }),
    selector,
  )
  .map(([ns, path, sel]) => `${ns.join('.')}/${path.join('/')}${sel}`)

describe('name properties', () => {
  it('format(parse(x)) parses back to the same name', () => {
    fc.assert(
      fc.property(nameText, (text) => {
        const parsed = parseFunctionName(text)
        expect(parseFunctionName(formatFunctionName(parsed))).toEqual(parsed)
      }),
      { numRuns: 500 },
    )
  })

  it('parsing is case-insensitive in the name and idempotent after formatting', () => {
    fc.assert(
      fc.property(nameText, (text) => {
        const upper = text.replace(/^[^@]*/, (n) => n.toUpperCase())
        expect(parseFunctionName(upper).name).toBe(parseFunctionName(text).name)
        const once = formatFunctionName(parseFunctionName(text))
        expect(formatFunctionName(parseFunctionName(once))).toBe(once)
      }),
      { numRuns: 300 },
    )
  })

  it('never throws anything but a MeshError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (text) => {
        try {
          parseFunctionName(text)
        } catch (err) {
          expect(err).toBeInstanceOf(MeshError)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('a range selector matches exactly what semver says it matches', () => {
    fc.assert(
      fc.property(
        selector.filter((s) => s.startsWith('@') && s !== '@latest'),
        version,
        (sel, v) => {
          const parsed = parseFunctionName(`a/b${sel}`).selector
          if (parsed.kind === 'range')
            expect(semver.satisfies(v, parsed.range)).toBe(semver.satisfies(v, sel.slice(1)))
        },
      ),
      { numRuns: 500 },
    )
  })
})
