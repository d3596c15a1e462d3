import { afterEach, describe, expect, it, vi } from 'vitest'

describe('the select example (test/examples/select.ts, for the README)', () => {
  afterEach(() => vi.restoreAllMocks())

  it('prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('../examples/select.js')
    expect(lines).toEqual([
      'cheap unvetted: context.allowedProviders',
      'fast fastest: fast at 40 ms (advertised), fastest of 2',
      'E_NO_ALLOWED_PROVIDER context.allowedFunctions [call], descriptor.requiredPermissions [call]',
    ])
  })
})
