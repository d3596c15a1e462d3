import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { shellWords } from '../../mcp/cli/_shellWords.js'
import { checkServers } from '../../mcp/config.js'
import { formatMcpEndpoint, parseMcpEndpoint } from '../../mcp/endpoint.js'
import { ProviderSchema } from '../../src/record/schema.js'

describe('MCP endpoints and config', () => {
  it('parses mcp+stdio:SERVER/TOOL and mcp+http(s)://HOST/PATH#TOOL', () => {
    expect(parseMcpEndpoint('mcp+stdio:images/sharpen')).toEqual({
      kind: 'stdio',
      server: 'images',
      tool: 'sharpen',
      key: 'stdio:images',
    })
    expect(parseMcpEndpoint('mcp+stdio:images/ns/tool%20x')).toMatchObject({ tool: 'ns/tool x' })
    expect(parseMcpEndpoint('mcp+http://127.0.0.1:3000/mcp?v=1#get_weather')).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:3000/mcp?v=1',
      tool: 'get_weather',
      key: 'http:http://127.0.0.1:3000/mcp?v=1',
    })
    expect(parseMcpEndpoint('mcp+https://tools.example/mcp#a')).toMatchObject({
      url: 'https://tools.example/mcp',
    })
  })

  it.each([
    ['mcp+stdio:images', 'needs SERVER/TOOL'],
    ['mcp+stdio:bad name/x', 'server name'],
    ['mcp+stdio:images/', 'empty'],
    ['mcp+http://127.0.0.1:3000/mcp', 'after "#"'],
    ['mcp+http://127.0.0.1:3000/mcp#%E0%A4%A', 'badly percent-encoded'],
    ['mcp+http://user:pw@127.0.0.1/mcp#x', 'credentials'],
  ])('error: %s is refused (%s)', (endpoint, rule) => {
    expect(parseMcpEndpoint(endpoint)).toContain(rule)
  })

  it('format and parse are inverses (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
        fc.string({ minLength: 1, maxLength: 30 }),
        (server, tool) => {
          expect(parseMcpEndpoint(formatMcpEndpoint({ server }, tool))).toMatchObject({ server, tool })
          expect(parseMcpEndpoint(formatMcpEndpoint({ url: 'http://127.0.0.1:1/mcp' }, tool))).toMatchObject({
            tool,
          })
        },
      ),
    )
  })

  it('records may name MCP endpoints; malformed ones are refused by the record schema', () => {
    const ok = (endpoint: string) => ProviderSchema.safeParse({ id: 'p', endpoint }).success
    expect(ok('mcp+stdio:images/sharpen')).toBe(true)
    expect(ok('mcp+http://127.0.0.1:3000/mcp#sharpen')).toBe(true)
    expect(ok('mcp+https://tools.example/mcp#sharpen')).toBe(true)
    expect(ok('mcp+stdio:images')).toBe(false)
    expect(ok('mcp+http://127.0.0.1:3000/mcp')).toBe(false)
    expect(ok('mcp://image-server.local/sharpen')).toBe(false)
    const issue = ProviderSchema.safeParse({ id: 'p', endpoint: 'mcp+stdio:x' }).error!.issues[0]!
    expect(issue.message).toContain('mcp+stdio:SERVER/TOOL')
  })

  it('error: a malformed servers config names the server and field', () => {
    expect(() => checkServers({ images: { command: '' } })).toThrow(
      /servers\.images\.command: must not be empty/,
    )
    expect(() => checkServers({ 'bad name': { command: 'node' } })).toThrow(/servers\.bad name/)
    expect(() => checkServers({ images: { command: 'node', args: [1] } })).toThrow(
      /servers\.images\.args\[0\]/,
    )
    expect(() => checkServers({ images: { command: 'node', shell: true } })).toThrow(
      /E_MCP_CONFIG_INVALID|Invalid MCP configuration/,
    )
    expect(checkServers({ images: { command: 'node', args: ['s.js'] } })).toEqual({
      images: { command: 'node', args: ['s.js'] },
    })
  })

  it('splits a command line like a shell', () => {
    expect(shellWords(`node "my server.js" --name 'a b' x\\ y`)).toEqual([
      'node',
      'my server.js',
      '--name',
      'a b',
      'x y',
    ])
    expect(shellWords('node "open')).toBeUndefined()
    expect(shellWords('  ')).toEqual([])
  })
})
