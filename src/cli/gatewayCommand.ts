import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { FileNotJsonError, FileReadError, UsageError } from '../errors/cli.js'
import { findConfig, loadConfig } from '../preset/config.js'
import { createPresetMesh } from '../preset/createPresetMesh.js'
import { commonArgs, context } from './_context.js'

// The gateway lives in the top-level gateway/ directory (function-mesh/gateway) and uses only the
// public mesh API; this command is the CLI's wiring for it and loads it only when it runs, as the
// preset loads a registry kind only when one is configured. Nothing else in src/ refers to gateway/.
const loadGateway = () => import('../../gateway/index.js')

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(
      `--port must be a whole number 0-65535, not ${text}`,
      { flag: '--port', value: text },
      '0 picks a free port; the command prints the URL.',
    )
  return port
}

async function readTokens(file: string | undefined): Promise<unknown[] | undefined> {
  if (file === undefined) return undefined
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FileReadError(`Cannot read the tokens file ${file}`, {
      details: { file, reason: (err as Error).message },
      hint: 'Give --tokens a JSON file: [{ "tokenHash": "sha256:...", "principal": "app" }].',
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new FileNotJsonError(`The tokens file ${file} is not JSON`, {
      details: { file, reason: (err as Error).message },
      hint: 'Give --tokens a JSON file: [{ "tokenHash": "sha256:...", "principal": "app" }].',
    })
  }
  const tokens = Array.isArray(value) ? value : (value as { tokens?: unknown } | null)?.tokens
  if (!Array.isArray(tokens))
    throw new FileNotJsonError(`The tokens file ${file} holds no token list`, {
      details: { file },
      hint: 'Write an array of { tokenHash, principal, context?, lease?, scopes? }, or { "tokens": [...] }.',
    })
  return tokens
}

const startArgs = {
  ...commonArgs,
  port: { type: 'string', description: 'Port to listen on (0 picks a free one; default 7420)' },
  host: { type: 'string', description: 'Address to listen on (default 127.0.0.1)' },
  tokens: { type: 'string', description: 'A JSON file of bearer tokens: [{ tokenHash, principal, ... }]' },
} as const

const startCommand = defineCommand({
  meta: {
    name: 'start',
    description: 'Start a mesh with the HTTP gateway and serve until SIGINT or SIGTERM',
  },
  args: startArgs,
  async run({ args }) {
    const { out, configPath } = context(args)
    const { httpGateway } = await loadGateway()
    const port = parsePort(args.port)
    const tokens = await readTokens(args.tokens)
    const gateway = httpGateway({
      ...(port === undefined ? {} : { port }),
      ...(args.host === undefined ? {} : { host: args.host }),
      ...(tokens === undefined ? {} : { tokens: tokens as never }),
    })
    const config = await loadConfig(await findConfig(configPath))
    const { mesh, describe } = await createPresetMesh(config, { services: [gateway] })
    const stopped = new Promise<string>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal))
    })
    out.result(
      { url: gateway.url, registries: mesh.registries.map((r) => r.id), tokens: tokens?.length ?? 0 },
      () => {
        out.line(`gateway listening on ${gateway.url}`)
        out.line(`  web view  ${gateway.url}/`)
        out.line(`  API       ${gateway.url}/openapi.json`)
        out.line(`  metrics   ${gateway.url}/metrics`)
        for (const line of describe) out.line(`  ${line}`)
        if ((tokens?.length ?? 0) === 0)
          out.line('  no tokens: call and dispatch are refused (make one with `fmesh gateway token`)')
        out.line('stop with Ctrl-C')
      },
    )
    const signal = await stopped
    out.line(`${signal}: stopping`)
    await mesh.close()
  },
})

const tokenCommand = defineCommand({
  meta: { name: 'token', description: 'Print a new bearer token and the hash to configure the gateway with' },
  args: {
    ...commonArgs,
    principal: { type: 'string', description: 'Principal the token calls as (printed in the config entry)' },
  },
  async run({ args }) {
    const { out } = context(args)
    const { generateToken } = await loadGateway()
    const { token, tokenHash } = generateToken()
    const entry = { tokenHash, principal: args.principal ?? 'app' }
    out.result({ token, tokenHash, entry }, () => {
      out.line(`token      ${token}`)
      out.line(`tokenHash  ${tokenHash}`)
      out.line('')
      out.line('Give the token to the client (Authorization: Bearer <token>); keep only the hash in the')
      out.line(`gateway's --tokens file: ${JSON.stringify(entry)}`)
    })
  },
})

/** `fmesh gateway [start]` and `fmesh gateway token`. */
export const gatewayCommand = defineCommand({
  meta: { name: 'gateway', description: 'Serve the mesh over HTTP: JSON API, /metrics and the web view' },
  // The start flags here too, so `fmesh gateway --port 0` finds no subcommand in `0` and runs start.
  args: startArgs,
  default: 'start',
  subCommands: { start: startCommand, token: tokenCommand },
})
