import { createHash } from 'node:crypto'
import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { UsageError } from '../errors/cli.js'
import type { Provider } from '../record/schema.js'
import { STRATEGY_NAMES, type StrategyName } from '../select/types.js'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

/** Knative names are DNS-1035 labels; a revision adds `-00001`, so the service keeps 6 to spare. */
const MAX_NAME = 57
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

/** A DNS-1035 service name from a function name and version (`acme.com/image/sharpen` 1.2.0 -> `acme-com-image-sharpen-v1-2-0`). */
export function knativeName(name: string, version: string): string {
  let base = `${name}-v${version}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  if (!/^[a-z]/.test(base)) base = `fn-${base}`
  if (base.length <= MAX_NAME) return base
  // Cut, and keep names of different functions apart with a hash of the whole.
  const hash = createHash('sha256').update(`${name}@${version}`).digest('hex').slice(0, 8)
  return `${base.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${hash}`
}

/** YAML text for plain JSON data: every string double-quoted (a JSON string is a YAML scalar as is). */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent)
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object') {
          const body = toYaml(item, indent + 2)
          return `${pad}- ${body.slice(indent + 2)}`
        }
        return `${pad}- ${scalar(item)}\n`
      })
      .join('')
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    if (entries.length === 0) return `${pad}{}\n`
    return entries
      .map(([k, v]) => {
        const key = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(k) ? k : JSON.stringify(k)
        if (
          v !== null &&
          typeof v === 'object' &&
          (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0)
        )
          return `${pad}${key}:\n${toYaml(v, indent + 2)}`
        return `${pad}${key}: ${v !== null && typeof v === 'object' ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}\n`
      })
      .join('')
  }
  return `${pad}${scalar(value)}\n`
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  throw new TypeError(`not JSON data: ${typeof value}`)
}

const isHttp = (p: Provider) => /^https?:\/\//.test(p.endpoint)

function parsePort(text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new UsageError(`--port must be a whole number 1-65535, not ${text}`, {
      flag: '--port',
      value: text,
    })
  return port
}

/** `fmesh manifest NAME[@VERSION] --knative --image IMAGE`: a Knative Service for a function's HTTP provider. */
export const manifestCommand = defineCommand({
  meta: {
    name: 'manifest',
    description:
      'Print a deployment manifest (a Knative Service, --knative) for the chosen HTTP provider of NAME[@VERSION]',
  },
  args: {
    ...commonArgs,
    name: { type: 'positional', description: 'e.g. acme.com/image/sharpen@^1.2', required: true },
    knative: { type: 'boolean', description: 'A Knative Service (serving.knative.dev/v1)', default: false },
    image: { type: 'string', description: 'The container image that serves the function (required)' },
    port: { type: 'string', description: 'The port the container listens on', default: '8080' },
    'service-name': {
      type: 'string',
      description: 'The Service name (default: from the function name and version)',
    },
    k8sNamespace: { type: 'string', description: 'The Kubernetes namespace of the Service' },
    strategy: { type: 'enum', options: [...STRATEGY_NAMES], description: 'How to pick among the providers' },
  },
  async run({ args }) {
    const { out, configPath } = context(args)
    if (args.knative !== true)
      throw new UsageError(
        'Name the manifest format: --knative (the one format so far)',
        { flag: '--knative' },
        'fmesh manifest acme.com/image/sharpen --knative --image ghcr.io/acme/sharpen:1.2',
      )
    if (args.image === undefined || args.image === '')
      throw new UsageError(
        '--image is required: the container image that serves the function',
        { flag: '--image' },
        'fmesh manifest acme.com/image/sharpen --knative --image ghcr.io/acme/sharpen:1.2',
      )
    const port = parsePort(args.port)
    const serviceName = args['service-name']
    if (serviceName !== undefined && (serviceName.length > MAX_NAME || !DNS_LABEL.test(serviceName)))
      throw new UsageError(
        `--service-name must be a DNS label of at most ${MAX_NAME} characters (a-z, 0-9, -), not ${serviceName}`,
        { flag: '--service-name', value: serviceName },
      )
    const { mesh } = await openMesh(configPath, { readOnly: true })
    try {
      const resolved = await mesh.resolve(args.name)
      const selected = await mesh.select(`${resolved.name}@${resolved.version}`, undefined, {
        ...(args.strategy === undefined ? {} : { strategy: args.strategy as StrategyName }),
      })
      const provider = isHttp(selected.provider)
        ? selected.provider
        : selected.candidates.map((c) => c.provider).find(isHttp)
      if (provider === undefined)
        throw new MeshError(
          'E_NO_HTTP_PROVIDER',
          `No HTTP provider of ${resolved.name}@${resolved.version} to deploy`,
          {
            details: {
              name: resolved.name,
              version: resolved.version,
              endpoints: resolved.providers.map((p) => p.endpoint),
            },
            hint: 'A Knative Service serves HTTP: publish a version with an http(s):// provider.',
          },
        )
      const name = serviceName ?? knativeName(resolved.name, resolved.version)
      const timeoutSeconds =
        resolved.descriptor.maxDurationMs === undefined
          ? undefined
          : Math.ceil(resolved.descriptor.maxDurationMs / 1000)
      const manifest = {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: {
          name,
          ...(args.k8sNamespace === undefined ? {} : { namespace: args.k8sNamespace }),
          labels: {
            'app.kubernetes.io/name': name,
            'app.kubernetes.io/managed-by': 'fmesh',
          },
          annotations: {
            'function-mesh.dev/function': resolved.name,
            'function-mesh.dev/version': resolved.version,
            'function-mesh.dev/record-id': resolved.recordId,
            'function-mesh.dev/provider': provider.id,
            'function-mesh.dev/endpoint': provider.endpoint,
          },
        },
        spec: {
          template: {
            spec: {
              ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
              containers: [
                {
                  image: args.image,
                  ports: [{ containerPort: port }],
                  env: [
                    { name: 'FMESH_FUNCTION', value: resolved.name },
                    { name: 'FMESH_VERSION', value: resolved.version },
                    { name: 'FMESH_PROVIDER', value: provider.id },
                    { name: 'FMESH_ENDPOINT', value: provider.endpoint },
                    { name: 'FMESH_RECORD_ID', value: resolved.recordId },
                  ],
                },
              ],
            },
          },
        },
      }
      const yaml = toYaml(manifest)
      out.result(
        {
          name: resolved.name,
          version: resolved.version,
          recordId: resolved.recordId,
          provider,
          manifest,
          yaml,
        },
        () => process.stdout.write(yaml),
      )
    } finally {
      await mesh.close()
    }
  },
})
