import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')

/** README code blocks preceded by `<!-- example: FILE -->` must be FILE under test/examples, verbatim. */
const blocks = [...readme.matchAll(/<!-- example: ([\w.-]+) -->\s*```ts\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1]!,
  code: m[2]!,
}))

describe('README examples', () => {
  afterEach(() => vi.restoreAllMocks())

  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThan(0)
  })

  it.each(blocks)('$file in the README is the tested file, verbatim', async ({ file, code }) => {
    expect(code).toBe(await readFile(new URL(`./examples/${file}`, import.meta.url), 'utf8'))
  })

  it('resolve.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/resolve.js')
    expect(lines).toEqual(['1.2.0 p1 registry signature', 'cache'])
  })

  it('call.ts prints what its comments say', async () => {
    const lines: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args))
    await import('./examples/call.js')
    expect(lines).toEqual([[{ text: 'HI' }, 500n, true], [500n], [500n], [true], ['E_BUDGET_EXCEEDED']])
  })

  it('gateway.ts prints what its comments say', async () => {
    const lines: unknown[][] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args))
    await import('./examples/gateway.js')
    expect(lines).toEqual([
      [{ text: 'HI' }, '250', 'true'],
      [404, 'E_FUNCTION_NOT_FOUND'],
    ])
  })

  it('chainContract.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/chainContract.js')
    expect(lines).toEqual(['1 true true'])
  })

  it('chainRegistry.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/chainRegistry.js')
    expect(lines).toEqual(['1.2.0 true'])
  })

  it('gitRegistry.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/gitRegistry.js')
    expect(lines).toEqual(['git:COMMIT:records/acme.com/image/sharpen.json', '0 1'])
  })

  it('peerNode.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/peerNode.js')
    expect(lines).toEqual(['1.2.0 registry peer'])
  })

  it('ipfsRegistry.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/ipfsRegistry.js')
    expect(lines).toEqual(['ipfs:/ipfs/CID', 'true 2 1'])
  })

  it('ipfsNetwork.ts prints what its comments say', async () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')))
    await import('./examples/ipfsNetwork.js')
    expect(lines).toEqual(['1.2.0 ipfs', '1.2.0 registry'])
  })
})
