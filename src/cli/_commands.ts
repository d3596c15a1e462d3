import { readFileSync } from 'node:fs'
import { defineCommand } from 'citty'

/** The package version, from the package.json above this file (src/cli or dist/src/cli). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'function-mesh' && pkg.version) return pkg.version
    } catch {}
  }
  return '0.0.0'
}

export const version = packageVersion()

/** The `fmesh` command tree; main.ts runs it, tests walk it (every command's --help). */
export const main = defineCommand({
  meta: { name: 'fmesh', version, description: 'function-mesh: DNS for functions' },
  // Each command's module loads only when it runs (help loads them all for their descriptions), so
  // `fmesh keys new` loads neither the mesh nor any registry kind.
  subCommands: {
    init: () => import('./initCommand.js').then((m) => m.initCommand),
    record: () => import('./recordCommand.js').then((m) => m.recordCommand),
    resolve: () => import('./resolveCommand.js').then((m) => m.resolveCommand),
    select: () => import('./selectCommand.js').then((m) => m.selectCommand),
    call: () => import('./callCommand.js').then((m) => m.callCommand),
    lease: () => import('./leaseCommand.js').then((m) => m.leaseCommand),
    publish: () => import('./publishCommand.js').then((m) => m.publishCommand),
    yank: () => import('./yankCommand.js').then((m) => m.yankCommand),
    deprecate: () => import('./yankCommand.js').then((m) => m.deprecateCommand),
    lineage: () => import('./lineageCommand.js').then((m) => m.lineageCommand),
    calls: () => import('./callsCommand.js').then((m) => m.callsCommand),
    dispatch: () => import('./dispatchCommand.js').then((m) => m.dispatchCommand),
    manifest: () => import('./manifestCommand.js').then((m) => m.manifestCommand),
    usage: () => import('./callCommand.js').then((m) => m.usageCommand),
    ls: () => import('./listCommand.js').then((m) => m.listCommand),
    keys: () => import('./keys.js').then((m) => m.keysCommand),
    namespace: () => import('./namespaceCommand.js').then((m) => m.namespaceCommand),
    demo: () => import('./demo.js').then((m) => m.demoCommand),
    completion: () => import('./completionCommand.js').then((m) => m.completionCommand),
    gateway: () => import('./gatewayCommand.js').then((m) => m.gatewayCommand),
    mcp: () => import('../../mcp/cli/mcpCommand.js').then((m) => m.mcpCommand),
    node: () => import('../../node/nodeCommand.js').then((m) => m.nodeCommand),
  },
})
