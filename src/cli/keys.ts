import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { defineCommand } from 'citty'
import type { MeshError } from '../errors/base.js'
import { FileReadError, FileWriteError, KeyFileError, UsageError } from '../errors/cli.js'
import { generateSigner, importSigner, keyIdFromPublicKey, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'

/** The public half of an ed25519 JWK: what may be shown, shared and published. */
interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
}

/** Reads a key file (a private JWK, or a public one) and returns its id and public JWK; never the private part. */
async function readKeyFile(file: string): Promise<{ id: string; jwk: PublicJwk; private: boolean }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FileReadError(`Cannot read the key file ${file}`, {
      details: { file, reason: (err as Error).message },
      hint: 'Name a key file that exists (`fmesh keys list` shows them).',
      cause: err,
    })
  }
  let jwk: Partial<PrivateKeyJwk>
  try {
    jwk = JSON.parse(text) as Partial<PrivateKeyJwk>
  } catch (err) {
    throw new KeyFileError(file, 'not JSON', err)
  }
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw new KeyFileError(file, 'not an OKP / Ed25519 JWK')
  if (typeof jwk.d === 'string') {
    let signer: Awaited<ReturnType<typeof importSigner>>
    try {
      signer = await importSigner(jwk as PrivateKeyJwk)
    } catch (err) {
      throw new KeyFileError(file, (err as MeshError).shortMessage ?? String(err), err)
    }
    const { x } = signer.exportJwk()
    return { id: signer.id, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid: signer.id }, private: true }
  }
  const raw = typeof jwk.x === 'string' ? Buffer.from(jwk.x, 'base64url') : Buffer.alloc(0)
  if (raw.length !== 32) throw new KeyFileError(file, 'x is not a 32-byte ed25519 public key')
  const id = keyIdFromPublicKey(new Uint8Array(raw))
  if (jwk.kid !== undefined && jwk.kid !== id)
    throw new KeyFileError(file, 'its kid does not match its public key')
  return { id, jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, kid: id }, private: false }
}

/** `*.jwk` in a directory (none if it does not exist). */
async function jwkFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => f.endsWith('.jwk'))
      .sort()
      .map((f) => join(dir, f))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** Where `keys new` and `keys list` keep keys: `<dataDir>/keys` of the config in effect. */
async function keysDir(configPath: string | undefined): Promise<string> {
  const { findConfig, loadConfig } = await import('../preset/config.js')
  return join((await loadConfig(await findConfig(configPath))).dataDir, 'keys')
}

async function writeKey(path: string, jwk: PrivateKeyJwk): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    throw new FileWriteError(`Cannot write the key to ${path}`, {
      details: { path, reason: (err as Error).message },
      hint: 'Pick a path that does not exist yet in a writable directory.',
      cause: err,
    })
  }
}

/** `fmesh keys new | list | export-public`: ed25519 publisher keys. */
export const keysCommand = defineCommand({
  meta: { name: 'keys', description: 'Manage publisher keys' },
  subCommands: {
    new: defineCommand({
      meta: {
        name: 'new',
        description:
          'Create an ed25519 publisher key in <dataDir>/keys/ (mode 0600) and print its id and file; the private key is printed only with --print',
      },
      args: {
        ...commonArgs,
        out: { type: 'string', description: 'Write the private JWK to this file (mode 0600) instead' },
        print: {
          type: 'boolean',
          description: 'Print the private JWK to stdout and write no file (keep it secret)',
          default: false,
        },
      },
      async run({ args }) {
        const { out, configPath } = context(args)
        if (args.print === true && args.out !== undefined)
          throw new UsageError(
            '--print and --out do not go together',
            { flags: ['--print', '--out'] },
            'Use --out FILE to write the key, or --print to see it on stdout.',
          )
        const signer = await generateSigner()
        const jwk = signer.exportJwk()
        if (args.print === true) {
          out.result({ id: signer.id, jwk }, () => process.stdout.write(`${JSON.stringify(jwk, null, 2)}\n`))
          return
        }
        let file = args.out
        if (file === undefined) {
          const dir = await keysDir(configPath)
          await mkdir(dir, { recursive: true, mode: 0o700 })
          file = join(dir, `${signer.id.slice(-12)}.jwk`)
        }
        await writeKey(file, jwk)
        out.result({ id: signer.id, file }, () => {
          out.line(`key id  ${signer.id}`)
          out.line(`wrote   ${file} (private: keep it out of version control)`)
        })
      },
    }),
    list: defineCommand({
      meta: {
        name: 'list',
        description:
          'List key files in <dataDir>/keys/ and *.jwk in the current directory (ids, never private keys)',
      },
      args: { ...commonArgs },
      async run({ args }) {
        const { out, configPath } = context(args)
        const files = [
          ...new Set([...(await jwkFiles(await keysDir(configPath))), ...(await jwkFiles(process.cwd()))]),
        ]
        const keys: { file: string; id?: string; private?: boolean; error?: string }[] = []
        for (const file of files) {
          try {
            const key = await readKeyFile(file)
            keys.push({ file, id: key.id, private: key.private })
          } catch (err) {
            keys.push({ file, error: (err as MeshError).shortMessage ?? String(err) })
          }
        }
        out.result({ keys }, () => {
          for (const k of keys) {
            const shown = relative(process.cwd(), k.file).startsWith('..')
              ? k.file
              : relative(process.cwd(), k.file)
            out.line(
              k.error === undefined
                ? `${k.id}  ${shown}${k.private ? '' : '  (public only)'}`
                : `${'(unreadable)'.padEnd(56)}  ${shown}  ${k.error}`,
            )
          }
          out.line(`${keys.length} key file${keys.length === 1 ? '' : 's'}`)
        })
      },
    }),
    'export-public': defineCommand({
      meta: {
        name: 'export-public',
        description:
          "Print a key file's did:key and public JWK (safe to share; the private part is left out)",
      },
      args: {
        ...commonArgs,
        file: { type: 'positional', description: 'A key file (from `fmesh keys new`)', required: true },
      },
      async run({ args }) {
        const { out } = context(args)
        const key = await readKeyFile(resolve(args.file))
        out.result({ id: key.id, jwk: key.jwk }, () => {
          out.line(key.id)
          out.line(JSON.stringify(key.jwk, null, 2))
        })
      },
    }),
  },
})
