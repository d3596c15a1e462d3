import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

/**
 * Records every module a process loads, one line each, in the file `$FMESH_MODULE_LOG`: `esm URL` for
 * each specifier the ESM loader resolves (a resolve hook on the loader thread) and, at exit, `cjs PATH`
 * for each module in the CommonJS cache (what `require` loaded without passing through the hooks).
 * Preload it after tsx: `node --import tsx --import ./test/_helpers/moduleLog.ts ...`.
 */
const file = process.env.FMESH_MODULE_LOG
if (file === undefined || file === '') throw new Error('moduleLog: set FMESH_MODULE_LOG to a file path')
register('./moduleLogHooks.ts', import.meta.url, { data: { file } })
process.on('exit', () => {
  const paths = Object.keys(createRequire(import.meta.url).cache)
  if (paths.length > 0) appendFileSync(file, paths.map((p) => `cjs ${p}\n`).join(''))
})
