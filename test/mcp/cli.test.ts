import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/preset/config.js'
import { createPresetMesh } from '../../src/preset/createPresetMesh.js'
import { generateSigner } from '../../src/trust/signer.js'
import { CLI_TEST_TIMEOUT_MS, runCli } from '../_helpers/cli.js'
import { imageDescriptor, STDIO_SERVER, stdioServer } from './_mesh.js'

const root = new URL('../..', import.meta.url).pathname
const cli = (args: string[]) => runCli(args)

let dir: string
let config: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmesh-mcp-cli-'))
  const signer = await generateSigner()
  config = join(dir, 'fmesh.json')
  await writeFile(config, JSON.stringify({ dataDir: 'data', trust: { owners: { 'acme.com': [signer.id] } } }))
  // Two records in the config's embedded Git registry: sharpen (an MCP tool) and a forbidden one.
  const { mesh } = await createPresetMesh(await loadConfig(config), { signer, oneShot: true })
  for (const [fn, tool] of [
    ['acme.com/mcp/sharpen', 'sharpen'],
    ['acme.com/secret/sharpen', 'sharpen'],
  ] as const)
    await mesh.publish(
      {
        name: fn,
        versions: {
          '1.0.0': {
            deprecated: false,
            yanked: false,
            descriptor: imageDescriptor(),
            providers: [
              {
                id: 'mcp-tools',
                endpoint: `mcp+stdio:tools/${tool}`,
                cost: { unit: 'USDC', baseUnits: '3' },
              },
            ],
          },
        },
      },
      { signer },
    )
  await mesh.close()
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('fmesh mcp and fmesh record from-mcp', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('fmesh mcp on stdio: a real SDK client lists tools, calls a function through an MCP tool, is refused a forbidden one', async () => {
    const servers = JSON.stringify({ tools: stdioServer() })
    const context = JSON.stringify({
      level: 'controlled',
      allowedFunctionPatterns: ['acme.com/mcp/**'],
      allowedProviders: ['mcp-*'],
    })
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'mcp',
        '--config',
        config,
        '--servers',
        servers,
        '--context',
        context,
        '--principal',
        'agent-cli',
      ],
      cwd: root,
      stderr: 'pipe',
    })
    const client = new Client({ name: 'cli-test', version: '1.0.0' })
    await client.connect(transport)
    try {
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name)).toEqual(['resolve', 'select', 'call', 'acme.com__mcp__sharpen'])
      const r = await client.callTool({ name: 'acme.com__mcp__sharpen', arguments: { image: 'fox' } })
      expect(r.structuredContent).toEqual({ image: 'fox!' })
      expect((r._meta as Record<string, { charge: unknown }>)['function-mesh/result']!.charge).toEqual({
        amount: '3',
        currency: 'USDC',
        quantity: '1',
      })
      const refused = await client.callTool({
        name: 'call',
        arguments: { name: 'acme.com/secret/sharpen', input: { image: 'x' } },
      })
      expect(refused.isError).toBe(true)
      expect((refused.content as { text: string }[])[0]!.text).toMatch(/^E_[A-Z_]+: /)
    } finally {
      await client.close()
    }
    const usage = await cli(['usage', '--by', 'principal', '--json', '--config', config])
    expect(JSON.parse(usage.stdout).rows).toEqual([
      { key: 'agent-cli', currency: 'USDC', amount: '3', calls: 1 },
    ])
  })

  it('fmesh mcp --http serves streamable HTTP on 127.0.0.1 and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'mcp',
        '--http',
        '--port',
        '0',
        '--json',
        '--config',
        config,
        '--context',
        '{"level":"full"}',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let text = ''
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8')
          if (text.includes('\n')) resolve(text.split('\n')[0]!)
        })
        child.once('exit', () => reject(new Error(`fmesh mcp exited: ${text}`)))
      })
      const { url } = JSON.parse(first) as { url: string }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
      const client = new Client({ name: 'cli-http', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(url)))
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name)).toEqual([
        'resolve',
        'select',
        'call',
        'acme.com__mcp__sharpen',
        'acme.com__secret__sharpen',
      ])
      await client.close()
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })

  it('fmesh record from-mcp prints unsigned drafts; an invalid tool schema is an error naming the tool', async () => {
    const command = `${process.execPath} ${STDIO_SERVER}`
    const ok = await cli([
      'record',
      'from-mcp',
      command,
      '--namespace',
      'acme.com',
      '--name',
      'tools',
      '--tool',
      'sharpen',
      '--json',
    ])
    expect(ok.code).toBe(0)
    const { drafts } = JSON.parse(ok.stdout) as {
      drafts: { name: string; versions: Record<string, { providers: { endpoint: string }[] }> }[]
    }
    expect(drafts.map((d) => d.name)).toEqual(['acme.com/sharpen'])
    expect(drafts[0]!.versions['1.0.0']!.providers[0]!.endpoint).toBe('mcp+stdio:tools/sharpen')
    const bad = await cli([
      'record',
      'from-mcp',
      `${command} --bad-schema`,
      '--namespace',
      'acme.com',
      '--json',
    ])
    expect(bad.code).toBe(1)
    const { error } = JSON.parse(bad.stderr) as { error: { code: string; details: { tool: string } } }
    expect(error).toMatchObject({ code: 'E_MCP_TOOL_SCHEMA_INVALID', details: { tool: 'broken' } })
  })
})
