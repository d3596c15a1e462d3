import { createRequire } from 'node:module'

const PLATFORMS: Record<string, Record<string, string>> = {
  darwin: { x64: 'darwin-amd64', arm64: 'darwin-arm64' },
  linux: { x64: 'linux-amd64', arm64: 'linux-arm64' },
  win32: { x64: 'win32-amd64' },
}

/**
 * The anvil binary `@foundry-rs/anvil` ships inside its platform package (an optional dependency of
 * ours), or undefined when it is not installed. Resolved directly rather than through the package's
 * `bin.mjs` wrapper, so stop() signals anvil itself and no extra node process sits in between.
 */
export function bundledAnvilBinary(): { binary: string } | { missing: string } {
  const suffix = PLATFORMS[process.platform]?.[process.arch]
  if (suffix === undefined)
    return { missing: `no @foundry-rs/anvil build for ${process.platform}-${process.arch}` }
  const pkg = `@foundry-rs/anvil-${suffix}`
  const file = process.platform === 'win32' ? 'anvil.exe' : 'anvil'
  try {
    return { binary: createRequire(import.meta.url).resolve(`${pkg}/bin/${file}`) }
  } catch {
    return { missing: `${pkg} is not installed` }
  }
}
