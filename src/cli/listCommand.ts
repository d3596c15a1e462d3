import { defineCommand } from 'citty'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

/** `fmesh ls PATTERN`: the names the registries hold that match a glob. */
export const listCommand = defineCommand({
  meta: {
    name: 'ls',
    description: 'List names matching a glob (* within a segment, ** across) in every registry',
  },
  args: { ...commonArgs, pattern: { type: 'positional', description: 'e.g. acme.com/**', default: '**' } },
  async run({ args }) {
    const { out, configPath } = context(args)
    const { mesh } = await openMesh(configPath, { readOnly: true })
    try {
      const names = new Map<string, string[]>()
      for (const registry of mesh.registries) {
        for await (const name of registry.list(args.pattern))
          names.set(name, [...(names.get(name) ?? []), registry.id])
      }
      const rows = [...names.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, registries]) => ({ name, registries }))
      out.result({ names: rows }, () => {
        for (const row of rows) out.line(`${row.name.padEnd(48)} ${row.registries.join(', ')}`)
        out.line(`${rows.length} name${rows.length === 1 ? '' : 's'}`)
      })
    } finally {
      await mesh.close()
    }
  },
})
