import { afterEach, describe, expect, it, vi } from 'vitest'

describe('README example: MCP', () => {
  afterEach(() => vi.restoreAllMocks())

  it('mcp.ts prints what its comments say', async () => {
    const lines: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args))
    await import('../examples/mcp.js')
    expect(lines).toEqual([
      ['mcp+stdio:images/sharpen'],
      [{ image: 'cat!' }, 40n],
      [['resolve', 'select', 'call', 'acme.com__mcp__sharpen']],
      [{ image: 'dog!' }],
      [['agent-1 40', 'alice 40']],
    ])
  })
})
