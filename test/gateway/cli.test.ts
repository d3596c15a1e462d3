import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { hashToken } from '../../gateway/tokens.js'

const root = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'fmesh-gateway-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fmesh = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, FMESH_DATA_DIR: dir },
  })

describe('fmesh gateway', () => {
  it('token prints a new token and the hash to configure', async () => {
    const { stdout } = await fmesh(['gateway', 'token', '--principal', 'billing', '--json'])
    const { token, tokenHash, entry } = JSON.parse(stdout) as {
      token: string
      tokenHash: string
      entry: object
    }
    expect(token).toMatch(/^fmt_[A-Za-z0-9_-]{43}$/)
    expect(tokenHash).toBe(hashToken(token))
    expect(entry).toEqual({ tokenHash, principal: 'billing' })
  })

  it('starts a mesh with the gateway, prints its URL, and stops on SIGTERM', async () => {
    const { stdout } = await fmesh(['gateway', 'token', '--json'])
    const { token, entry } = JSON.parse(stdout) as { token: string; entry: object }
    const tokens = join(dir, 'tokens.json')
    writeFileSync(tokens, JSON.stringify([entry]))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--port', '0', '--tokens', tokens, '--json'],
      { cwd: root, env: { ...process.env, FMESH_DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    let out = ''
    const started = await new Promise<{ url: string; tokens: number }>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        try {
          resolve(JSON.parse(out))
        } catch {}
      })
      void exited.then((code) =>
        reject(new Error(`fmesh gateway exited (${code}) before it printed its URL: ${out}`)),
      )
    })
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(started.tokens).toBe(1)
    expect(await (await fetch(`${started.url}/readyz`)).json()).toMatchObject({
      ready: true,
      registries: ['git'],
    })
    const unknown = await fetch(`${started.url}/v1/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'acme.com/nope/none', input: {} }),
    })
    expect(((await unknown.json()) as { code: string }).code).toBe('E_FUNCTION_NOT_FOUND')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('error: a tokens file that is not JSON is a clear error', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '[{')
    const err = await fmesh(['gateway', '--port', '0', '--tokens', bad, '--json']).catch(
      (e: { stderr: string; code: number }) => e,
    )
    expect((err as { code: number }).code).toBe(2)
    expect(JSON.parse((err as { stderr: string }).stderr).error.code).toBe('E_FILE_NOT_JSON')
  })

  it('only the gateway command in src/ refers to gateway/ (the core never does)', () => {
    const files = (d: string): string[] =>
      readdirSync(join(root, d), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
      )
    const referring = files('src').filter((f) =>
      /['"](\.\.\/)+gateway\//.test(readFileSync(join(root, f), 'utf8')),
    )
    expect(referring).toEqual(['src/cli/gatewayCommand.ts'])
  })
})
