import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { KeyFileInvalidError } from '../errors/cli.js'
import { InvalidArgumentError } from '../errors/mesh.js'
import { findConfig, loadConfig } from '../preset/config.js'
import { type ChainRegistry, openPresetChain, type VersionMarkStatus } from '../preset/openPresetChain.js'
import { importSigner, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import type { Output } from './_output.js'

/** Flags of every namespace command. */
const chainArgs = {
  ...commonArgs,
  registry: {
    type: 'string',
    description: "The chain registry's id in the config (default: the first chain registry)",
  },
  'signer-key': {
    type: 'string',
    description:
      "A file holding the 0x private key of the Ethereum account that sends (default: the config's signerKeyFile; a local chain's first dev account)",
  },
} as const

type ChainArgs = {
  json?: boolean | undefined
  config?: string | undefined
  registry?: string | undefined
  'signer-key'?: string | undefined
}

/** Opens the config's chain registry (with `--signer-key` as its signer), runs `work`, closes the mesh. */
async function withChain(
  args: ChainArgs,
  work: (chain: ChainRegistry, out: Output) => Promise<void>,
): Promise<void> {
  const { out, configPath } = context(args)
  const { mesh, chain } = await openPresetChain(await loadConfig(await findConfig(configPath)), {
    registry: args.registry,
    signerKeyFile: args['signer-key'],
  })
  try {
    await work(chain, out)
  } finally {
    await mesh.close()
  }
}

/** `acme.com/image/sharpen@1.2.0` as its name and version; E_INVALID_ARGUMENT otherwise. */
function nameAndVersion(command: string, value: string): { name: string; version: string } {
  const at = String(value).lastIndexOf('@')
  const name = at > 0 ? value.slice(0, at) : ''
  const version = at > 0 ? value.slice(at + 1) : ''
  if (!name.includes('/') || version === '')
    throw new InvalidArgumentError(
      command,
      'NAME@VERSION',
      'a name and an exact version, e.g. acme.com/image/sharpen@1.2.0',
      value,
    )
  return { name, version }
}

/** A publisher key given as a did:key, or as a JWK file from `fmesh keys new` (its public key is used). */
async function keyIdOf(command: string, value: string): Promise<string> {
  if (String(value).startsWith('did:key:')) return value
  let text: string
  try {
    text = await readFile(value, 'utf8')
  } catch {
    throw new InvalidArgumentError(command, 'KEY', 'a did:key or a JWK file from `fmesh keys new`', value)
  }
  try {
    return (await importSigner(JSON.parse(text) as PrivateKeyJwk)).id
  } catch (err) {
    throw new KeyFileInvalidError(value, err)
  }
}

/** Prints a transaction's result. */
function sent(out: Output, what: string, tx: { transactionHash: string; blockNumber: number }, extra = {}) {
  out.result({ ...extra, transactionHash: tx.transactionHash, blockNumber: tx.blockNumber }, () => {
    out.line(what)
    out.line(`  transaction ${tx.transactionHash} in block ${tx.blockNumber}`)
  })
}

const namespaceArg = { type: 'positional', description: 'e.g. acme.com', required: true } as const

const mark = (command: string, status: VersionMarkStatus, description: string) =>
  defineCommand({
    meta: { name: command, description },
    args: {
      ...chainArgs,
      target: {
        type: 'positional',
        description: 'NAME@VERSION, e.g. acme.com/image/sharpen@1.2.0',
        required: true,
      },
    },
    async run({ args }) {
      const { name, version } = nameAndVersion(`fmesh namespace ${command}`, args.target)
      await withChain(args, async (chain, out) => {
        const tx = await chain.markVersion(name, version, status)
        sent(out, `${name}@${version} marked ${status} on chain`, tx, { name, version, status })
      })
    },
  })

/** `fmesh namespace ...`: namespace ownership, publisher keys and version marks on the chain. */
export const namespaceCommand = defineCommand({
  meta: {
    name: 'namespace',
    description: 'Own namespaces on the chain: claim, keys, transfer, version marks',
  },
  subCommands: {
    claim: defineCommand({
      meta: {
        name: 'claim',
        description: 'Claim an unclaimed namespace for the signer account (first claim wins)',
      },
      args: { ...chainArgs, namespace: namespaceArg },
      async run({ args }) {
        await withChain(args, async (chain, out) => {
          const tx = await chain.claim(args.namespace)
          const owner = await chain.account()
          sent(out, `claimed ${args.namespace} for ${owner}`, tx, { namespace: args.namespace, owner })
        })
      },
    }),
    keys: defineCommand({
      meta: {
        name: 'keys',
        description: "A namespace's publisher keys (the did:keys that sign its records)",
      },
      subCommands: {
        add: defineCommand({
          meta: { name: 'add', description: 'Add a publisher key' },
          args: {
            ...chainArgs,
            namespace: namespaceArg,
            key: {
              type: 'positional',
              description: 'A did:key, or a JWK file from `fmesh keys new`',
              required: true,
            },
          },
          async run({ args }) {
            const keyId = await keyIdOf('fmesh namespace keys add', args.key)
            await withChain(args, async (chain, out) => {
              const tx = await chain.addPublisher(args.namespace, keyId)
              sent(out, `added ${keyId} to ${args.namespace}`, tx, { namespace: args.namespace, key: keyId })
            })
          },
        }),
        remove: defineCommand({
          meta: { name: 'remove', description: 'Remove a publisher key: its records are refused everywhere' },
          args: {
            ...chainArgs,
            namespace: namespaceArg,
            key: {
              type: 'positional',
              description: 'A did:key, or a JWK file from `fmesh keys new`',
              required: true,
            },
          },
          async run({ args }) {
            const keyId = await keyIdOf('fmesh namespace keys remove', args.key)
            await withChain(args, async (chain, out) => {
              const tx = await chain.removePublisher(args.namespace, keyId)
              sent(out, `removed ${keyId} from ${args.namespace}`, tx, {
                namespace: args.namespace,
                key: keyId,
              })
            })
          },
        }),
        list: defineCommand({
          meta: { name: 'list', description: "List a namespace's publisher keys" },
          args: { ...chainArgs, namespace: namespaceArg },
          async run({ args }) {
            await withChain(args, async (chain, out) => {
              const ns = await chain.namespace(args.namespace)
              const keys = ns?.publishers ?? []
              out.result({ namespace: args.namespace, claimed: ns !== undefined, keys }, () => {
                if (ns === undefined) out.line(`${args.namespace} is not claimed`)
                for (const key of keys) out.line(key)
              })
            })
          },
        }),
      },
    }),
    transfer: defineCommand({
      meta: { name: 'transfer', description: 'Start a two-step transfer; nothing changes until TO accepts' },
      args: {
        ...chainArgs,
        namespace: namespaceArg,
        to: { type: 'positional', description: 'The new owner account (0x address)', required: true },
      },
      async run({ args }) {
        if (!/^0x[0-9a-fA-F]{40}$/.test(args.to))
          throw new InvalidArgumentError(
            'fmesh namespace transfer',
            'TO',
            'a 0x-prefixed 20-byte address',
            args.to,
          )
        await withChain(args, async (chain, out) => {
          const tx = await chain.transferOwnership(args.namespace, args.to)
          sent(out, `transfer of ${args.namespace} to ${args.to} started; ${args.to} must accept`, tx, {
            namespace: args.namespace,
            pendingOwner: args.to,
          })
        })
      },
    }),
    accept: defineCommand({
      meta: {
        name: 'accept',
        description: "Accept a transfer to the signer account (the old owner's keys are dropped)",
      },
      args: { ...chainArgs, namespace: namespaceArg },
      async run({ args }) {
        await withChain(args, async (chain, out) => {
          const tx = await chain.acceptOwnership(args.namespace)
          const owner = await chain.account()
          sent(out, `${args.namespace} now belongs to ${owner}`, tx, { namespace: args.namespace, owner })
        })
      },
    }),
    cancel: defineCommand({
      meta: { name: 'cancel', description: 'Withdraw a pending transfer' },
      args: { ...chainArgs, namespace: namespaceArg },
      async run({ args }) {
        await withChain(args, async (chain, out) => {
          const tx = await chain.cancelOwnershipTransfer(args.namespace)
          sent(out, `transfer of ${args.namespace} cancelled`, tx, { namespace: args.namespace })
        })
      },
    }),
    show: defineCommand({
      meta: { name: 'show', description: "A namespace's owner, pending transfer and publisher keys" },
      args: { ...chainArgs, namespace: namespaceArg },
      async run({ args }) {
        await withChain(args, async (chain, out) => {
          const ns = await chain.namespace(args.namespace)
          const value =
            ns === undefined
              ? { namespace: args.namespace, claimed: false }
              : { namespace: args.namespace, claimed: true, ...ns }
          out.result(value, () => {
            if (ns === undefined) return out.line(`${args.namespace} is not claimed`)
            out.line(`namespace  ${args.namespace}`)
            out.line(`owner      ${ns.owner}`)
            if (ns.pendingOwner !== undefined) out.line(`pending    ${ns.pendingOwner} (must accept)`)
            out.line(
              `keys       ${ns.publishers.length === 0 ? '(none)' : ns.publishers.join('\n           ')}`,
            )
          })
        })
      },
    }),
    yank: mark(
      'yank',
      'yanked',
      'Yank a version on chain: ranges and latest skip it wherever its record is found',
    ),
    deprecate: mark('deprecate', 'deprecated', 'Deprecate a version on chain: ranges and latest skip it'),
    unmark: mark('unmark', 'none', "Clear a version's mark on chain"),
  },
})
