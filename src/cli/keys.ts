import { writeFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { generateSigner } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'

/** `fmesh keys new`: a new ed25519 publisher key as a private JWK. */
export const keysCommand = defineCommand({
  meta: { name: 'keys', description: 'Manage publisher keys' },
  subCommands: {
    new: defineCommand({
      meta: { name: 'new', description: 'Create an ed25519 publisher key (a private JWK; keep it secret)' },
      args: {
        ...commonArgs,
        out: {
          type: 'string',
          description: 'Write the private JWK to this file (mode 0600) instead of stdout',
        },
      },
      async run({ args }) {
        const { out } = context(args)
        const signer = await generateSigner()
        const jwk = signer.exportJwk()
        if (args.out) {
          try {
            await writeFile(args.out, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
          } catch (err) {
            throw new MeshError('E_FILE_WRITE', `Cannot write the key to ${args.out}`, {
              details: { path: args.out, reason: (err as Error).message },
              hint: 'Pick a path that does not exist yet in a writable directory.',
              cause: err,
            })
          }
          out.result({ id: signer.id, file: args.out }, () => {
            out.line(`key id  ${signer.id}`)
            out.line(`wrote   ${args.out} (private: keep it out of version control)`)
          })
        } else {
          out.result({ id: signer.id, jwk }, () => process.stdout.write(`${JSON.stringify(jwk, null, 2)}\n`))
        }
      },
    }),
  },
})
