import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { McpUnknownServerError } from '../../mcp/errors.js'
import { BACKOFF_MAX_MS } from '../../src/invoke/attemptPolicy.js'
import { openLedger } from '../../src/ledger/Ledger.js'
import { fakeClock } from '../_helpers/clock.js'
import { until } from '../_helpers/until.js'
import { failure, imageDescriptor, mcpMesh, stdioServer } from './_mesh.js'

const clock = fakeClock(Date.now())
let t: Awaited<ReturnType<typeof mcpMesh>>
const logDir = mkdtempSync(join(tmpdir(), 'fmesh-mcp-log-'))
const log = join(logDir, 'server.log')
beforeAll(async () => {
  writeFileSync(log, '')
  t = await mcpMesh({
    clock,
    servers: { tools: stdioServer({ MCP_TEST_LOG: log }), ghost: { command: '/nonexistent/mcp-server' } },
  })
})
afterAll(async () => {
  await t.close()
  rmSync(logDir, { recursive: true, force: true })
})

const logLines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean)

describe('mcp+stdio: MCP tools as governed providers', () => {
  it('resolves a record whose provider is the tool, calls it under governance, leaves lineage and the charge', async () => {
    const name = await t.publishTool('sharpen', 'mcp+stdio:tools/sharpen')
    const result = await t.mesh.call<{ image: string }>(name, { image: 'cat' }, { principal: 'alice' })
    expect(result.output).toEqual({ image: 'cat!' })
    expect(result.provider.endpoint).toBe('mcp+stdio:tools/sharpen')
    expect(result.charge).toMatchObject({
      currency: 'USDC',
      amount: 25n,
      quantity: 1n,
      entry: result.lineage.completed,
    })
    const entries = await t.mesh.lineage.entries(result.invocationId)
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[0]!.entry).toMatchObject({
      principal: 'alice',
      endpoint: 'mcp+stdio:tools/sharpen',
      provider: 'mcp-sharpen',
    })
    expect(logLines()).toContain(`call sharpen ${result.invocationId}`)
    expect(await t.mesh.billing.usage({ by: 'principal' })).toEqual([
      { key: 'alice', currency: 'USDC', amount: 25n, calls: 1 },
    ])
    // JSON text content is the output of a tool without structuredContent.
    const upper = await t.publishTool(
      'upper',
      'mcp+stdio:tools/upper',
      imageDescriptor({
        inputSchema: { type: 'object', required: ['text'] },
        outputSchema: { type: 'object', required: ['text'] },
      }),
    )
    expect((await t.mesh.call(upper, { text: 'hi' })).output).toEqual({ text: 'HI' })
    // A tool bills units of work through _meta.
    const billed = await t.publishTool('billed', 'mcp+stdio:tools/billed')
    const b = await t.mesh.call(billed, { image: 'x' }, { principal: 'bob' })
    expect(b.charge).toMatchObject({ amount: 75n, quantity: 3n })
    expect(t.transport.opened.get('stdio:tools')).toBe(1)
  })

  it('error: invalid input is refused by the descriptor before the server sees it', async () => {
    const name = await t.publishTool('sharpen', 'mcp+stdio:tools/sharpen')
    const before = logLines().length
    const err = await failure(t.mesh.call(name, { image: 42 }, { principal: 'carol' }))
    expect(err.code).toBe('E_INPUT_INVALID')
    expect(logLines().length).toBe(before)
  })

  it('error: an isError result is E_MCP_TOOL_ERROR with its text, and is not charged', async () => {
    const name = await t.publishTool(
      'fail',
      'mcp+stdio:tools/fail',
      imageDescriptor({ idempotency: 'at-least-once', outputSchema: {} }),
    )
    const err = await failure(t.mesh.call(name, { image: 'cat' }, { principal: 'dave' }))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.cause).toMatchObject({ code: 'E_MCP_TOOL_ERROR', sent: true })
    expect(err.cause!.message).toContain('the image is corrupt')
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'dave' }),
    )
  })

  it('error: a hanging tool is cancelled at the deadline of the fake clock (notifications/cancelled); nothing charged', async () => {
    const name = await t.publishTool('hang', 'mcp+stdio:tools/hang', imageDescriptor({ outputSchema: {} }))
    const failed = failure(t.mesh.call(name, { image: 'cat' }, { timeoutMs: 2000, principal: 'erin' }))
    await until(() => logLines().some((l) => l.startsWith('call hang')), { what: 'the hang call to arrive' })
    await clock.advanceAsync(2000)
    const err = await failed
    expect(err.code).toBe('E_DEADLINE_EXCEEDED')
    await until(() => logLines().some((l) => l.startsWith('cancelled hang')), {
      what: 'the server to see the cancellation',
    })
    expect(logLines().find((l) => l.startsWith('cancelled hang'))).toContain(
      'function-mesh: the call deadline passed',
    )
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'erin' }),
    )
  })

  it('error: a server that crashes mid-call is E_MCP_SERVER_EXITED (sent, with its stderr); the pool restarts it', async () => {
    const pid = await t.publishTool(
      'pid',
      'mcp+stdio:tools/pid',
      imageDescriptor({ inputSchema: {}, outputSchema: {} }),
    )
    const first = (await t.mesh.call<{ pid: number }>(pid, {})).output.pid
    const opened = t.transport.opened.get('stdio:tools')!
    const crash = await t.publishTool('crash', 'mcp+stdio:tools/crash', imageDescriptor({ outputSchema: {} }))
    const err = await failure(t.mesh.call(crash, { image: 'cat' }, { maxAttempts: 1, principal: 'frank' }))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.cause).toMatchObject({ code: 'E_MCP_SERVER_EXITED', sent: true, retryable: true })
    expect(err.cause!.message).toContain('crashing on purpose')
    const second = (await t.mesh.call<{ pid: number }>(pid, {})).output.pid
    expect(second).not.toBe(first)
    expect(t.transport.opened.get('stdio:tools')).toBe(opened + 1)
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'frank' }),
    )
  })

  it.each([
    ['garbage', 'a message that is not JSON-RPC'],
    ['stray', 'a response to no request'],
    ['bad-result', 'is not a CallToolResult'],
  ])(
    'error: malformed JSON-RPC (%s) fails the call with E_MCP_PROTOCOL at once; nothing charged',
    async (tool, text) => {
      const name = await t.publishTool(tool, `mcp+stdio:tools/${tool}`, imageDescriptor({ outputSchema: {} }))
      const err = await failure(
        t.mesh.call(name, { image: 'cat' }, { maxAttempts: 1, principal: `p-${tool}` }),
      )
      expect(err.cause).toMatchObject({ code: 'E_MCP_PROTOCOL', sent: true })
      expect(err.cause!.message).toContain(text)
      expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
        expect.objectContaining({ key: `p-${tool}` }),
      )
    },
  )

  it("error: a result that answers a different tool (breaks the tool's own outputSchema) is E_MCP_RESULT_MISMATCH", async () => {
    const name = await t.publishTool(
      'swapped',
      'mcp+stdio:tools/swapped',
      imageDescriptor({ outputSchema: {} }),
    )
    const err = await failure(t.mesh.call(name, { image: 'cat' }, { maxAttempts: 1, principal: 'gina' }))
    expect(err.cause).toMatchObject({ code: 'E_MCP_RESULT_MISMATCH', sent: true })
    expect(err.cause!.message).toContain("answered swapped with a result that is not swapped's")
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'gina' }),
    )
  })

  it("error: output that breaks the descriptor's outputSchema is E_OUTPUT_INVALID, not charged", async () => {
    const name = await t.publishTool('count', 'mcp+stdio:tools/count', imageDescriptor({ inputSchema: {} }))
    const err = await failure(t.mesh.call(name, {}, { maxAttempts: 1, principal: 'hank' }))
    expect(err.cause).toMatchObject({ code: 'E_OUTPUT_INVALID' })
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'hank' }),
    )
  })

  it('error: an unknown tool and an unconfigured server are refused before anything is sent', async () => {
    const nope = await t.publishTool('nope', 'mcp+stdio:tools/no-such-tool')
    const err = await failure(t.mesh.call(nope, { image: 'cat' }, { maxAttempts: 1 }))
    expect(err.cause).toMatchObject({ code: 'E_MCP_UNKNOWN_TOOL', sent: false })
    expect(err.cause!.message).toContain('has no tool "no-such-tool"')
    const elsewhere = await t.publishTool('elsewhere', 'mcp+stdio:rogue/sharpen')
    const err2 = await failure(t.mesh.call(elsewhere, { image: 'cat' }, { maxAttempts: 1 }))
    expect(err2.cause).toBeInstanceOf(McpUnknownServerError)
    expect(err2.cause).toMatchObject({ code: 'E_MCP_UNKNOWN_SERVER', sent: false })
    expect(err2.cause!.message).toContain('never from a record')
  })

  it('FUNCTION_INVOKED is on disk when the server gets the request, at-least-once and idempotent without a key alike (a hanging call shows as in flight); nothing is charged when it fails', async () => {
    // A second, read-only ledger on the mesh's file sees only what is committed.
    const disk = await openLedger({ path: join(t.dir, 'ledger.sqlite'), readOnly: true })
    try {
      const onDisk = async (invocation: string) => (await disk.lineage(invocation)).map((e) => e.entry.type)
      const arrived = async (seen: number) => {
        const line = await until(
          () =>
            logLines()
              .slice(seen)
              .find((l) => l.startsWith('call hang')),
          { what: 'the hang call to arrive' },
        )
        return line.split(' ')[2]!
      }
      const alo = await t.publishTool(
        'hang-alo',
        'mcp+stdio:tools/hang',
        imageDescriptor({ idempotency: 'at-least-once', outputSchema: {} }),
      )
      let seen = logLines().length
      const first = failure(t.mesh.call(alo, { image: 'cat' }, { timeoutMs: 2000, principal: 'gus' }))
      const aloInvocation = await arrived(seen)
      expect(await onDisk(aloInvocation)).toEqual(['FUNCTION_INVOKED'])
      await clock.advanceAsync(2000)
      expect((await first).code).toBe('E_DEADLINE_EXCEEDED')
      expect(await onDisk(aloInvocation)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_FAILED'])

      const idem = await t.publishTool(
        'hang-idem',
        'mcp+stdio:tools/hang',
        imageDescriptor({ outputSchema: {} }),
      )
      seen = logLines().length
      const second = failure(t.mesh.call(idem, { image: 'cat' }, { timeoutMs: 2000, principal: 'gus' }))
      const idemInvocation = await arrived(seen)
      expect(await onDisk(idemInvocation)).toEqual(['FUNCTION_INVOKED'])
      await clock.advanceAsync(2000)
      expect((await second).code).toBe('E_DEADLINE_EXCEEDED')
      expect(await onDisk(idemInvocation)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_FAILED'])
      expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
        expect.objectContaining({ key: 'gus' }),
      )
    } finally {
      await disk.close()
    }
  })

  it('at-least-once: a crash mid-call is not retried (the request may have run); idempotent: retried on a restarted server', async () => {
    const crash = await t.publishTool(
      'crash-alo',
      'mcp+stdio:tools/crash',
      imageDescriptor({ idempotency: 'at-least-once', outputSchema: {} }),
    )
    const before = t.transport.opened.get('stdio:tools')!
    const err = await failure(t.mesh.call(crash, { image: 'cat' }, { maxAttempts: 3, principal: 'ivan' }))
    expect(err.code).toBe('E_INVOCATION_FAILED')
    expect(err.details.stoppedBecause).toContain('at-least-once')
    expect(err.details.attempts).toHaveLength(1)
    const idem = await t.publishTool(
      'crash-idem',
      'mcp+stdio:tools/crash',
      imageDescriptor({ outputSchema: {} }),
    )
    const seen = logLines().length
    const failing = failure(t.mesh.call(idem, { image: 'cat' }, { maxAttempts: 2, principal: 'ivan' }))
    // The retry waits out its backoff on the mesh's fake clock: move it once attempt 1 is FAILED.
    const line = await until(
      () =>
        logLines()
          .slice(seen)
          .find((l) => l.startsWith('call crash')),
      {
        what: 'the first attempt to reach the server',
      },
    )
    const invocation = line.split(' ')[2]!
    await until(
      async () => (await t.mesh.lineage.entries(invocation)).some((e) => e.entry.type === 'FUNCTION_FAILED'),
      { what: 'attempt 1 to be recorded as FAILED' },
    )
    await clock.advanceAsync(BACKOFF_MAX_MS)
    const err2 = await failing
    expect(err2.details.attempts).toHaveLength(2)
    expect(t.transport.opened.get('stdio:tools')).toBe(before + 2)
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'ivan' }),
    )
  })

  it('error: a configured command that does not start is E_MCP_SERVER_UNAVAILABLE, not sent', async () => {
    const name = await t.publishTool('ghost', 'mcp+stdio:ghost/sharpen')
    const err = await failure(t.mesh.call(name, { image: 'cat' }, { maxAttempts: 1 }))
    expect(err.cause).toMatchObject({ code: 'E_MCP_SERVER_UNAVAILABLE', sent: false })
    expect(err.cause!.message).toContain('MCP server ghost is unavailable')
  })
})
