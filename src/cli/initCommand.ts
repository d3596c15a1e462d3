import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { ConfigExistsError, FileWriteError, UsageError } from '../errors/cli.js'
import { normalizeRecordName } from '../name.js'
import { generateSigner } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'

/** The config `fmesh init` writes: JSON with comments, every field explained where it stands. */
function configText(owners: Record<string, string[]>): string {
  const trust = JSON.stringify({ owners }, null, 2).replaceAll('\n', '\n  ')
  return `// function-mesh config: JSON with comments. fmesh finds it as --config FILE, $FMESH_CONFIG,
// ./fmesh.json, then ~/.config/fmesh/config.json. Relative paths are relative to this file.
{
  // Where the embedded registries, the seq ledger and the call ledger keep their data.
  "dataDir": ".fmesh",

  // Registries, asked in this order. Each is { "type": KIND, "id"?: ID, ...KIND's fields }:
  //   { "type": "git" }                       a Git repository in DATA_DIR/registry.git
  //   { "type": "git", "url": "https://..." } the same, synced with a remote
  //   { "type": "ipfs" }                      a local Helia node in DATA_DIR/ipfs
  //   { "type": "memory" }                    in memory, for trying things out
  "registries": [{ "type": "git", "id": "git" }],

  // Who may publish for a namespace: namespace -> ed25519 did:keys (\`fmesh keys new\`).
  // A record signed by any other key is refused wherever it is found.
  "trust": ${trust},

  // How long one registry may take to answer one lookup, in ms.
  "lookupTimeoutMs": 2000
}
`
}

/** `fmesh init`: a commented config, its data dir and registries, and optionally a first publisher key. */
export const initCommand = defineCommand({
  meta: {
    name: 'init',
    description:
      'Write a commented fmesh.json and create its data dir (and a publisher key with --namespace)',
  },
  args: {
    ...commonArgs,
    dir: { type: 'string', description: 'Where to write fmesh.json', default: '.' },
    namespace: {
      type: 'string',
      description: 'Make a publisher key for this namespace (NS.jwk, mode 0600) and pin it as its owner',
    },
    force: { type: 'boolean', description: 'Replace an existing fmesh.json', default: false },
  },
  async run({ args }) {
    const { out } = context(args)
    const dir = resolve(args.dir)
    const file = join(dir, 'fmesh.json')
    if (existsSync(file) && args.force !== true) throw new ConfigExistsError(file)
    const owners: Record<string, string[]> = {}
    let keyFile: string | undefined
    let keyId: string | undefined
    if (args.namespace !== undefined) {
      let namespace: string
      try {
        namespace = normalizeRecordName(`${args.namespace}/x`).split('/')[0]!
      } catch (err) {
        throw new UsageError(
          `--namespace ${args.namespace} is not a namespace`,
          { namespace: args.namespace },
          'A namespace is a domain-like name: acme.com, image-processing.',
          err,
        )
      }
      const signer = await generateSigner()
      keyFile = join(dir, `${namespace}.jwk`)
      await mkdir(dir, { recursive: true })
      await writeFile(keyFile, `${JSON.stringify(signer.exportJwk(), null, 2)}\n`, {
        mode: 0o600,
        flag: 'wx',
      }).catch((err: unknown) => {
        throw new FileWriteError(`Cannot write the key to ${keyFile}`, {
          details: { path: keyFile, reason: (err as Error).message },
          hint: 'A key file of that name exists already: keep it, or move it away first.',
          cause: err,
        })
      })
      owners[namespace] = [signer.id]
      keyId = signer.id
    }
    await mkdir(dir, { recursive: true })
    await writeFile(file, configText(owners), { mode: 0o644 })
    // Build the registries once, so their stores exist for the read commands.
    const { loadConfig } = await import('../preset/config.js')
    const { createPresetMesh } = await import('../preset/createPresetMesh.js')
    const config = await loadConfig(file)
    const { mesh, describe } = await createPresetMesh(config, { oneShot: true })
    await mesh.close()
    out.result(
      {
        config: file,
        dataDir: config.dataDir,
        registries: describe,
        ...(keyFile ? { key: { id: keyId, file: keyFile } } : {}),
      },
      () => {
        out.line(`wrote   ${file}`)
        out.line(`data    ${config.dataDir}`)
        for (const line of describe) out.line(`        ${line}`)
        if (keyFile !== undefined) {
          out.line(`key     ${keyId}`)
          out.line(`        ${keyFile} (private: keep it out of version control)`)
        }
        out.line('')
        out.line('next    fmesh record new NAME > draft.json   (or write a record draft by hand)')
        out.line(`        fmesh publish draft.json --key ${keyFile ?? 'KEY.jwk'}`)
        out.line('        fmesh resolve NAME')
      },
    )
  },
})
