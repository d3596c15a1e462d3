import { resolve } from 'node:path'

/** The data directory when nothing says otherwise: `$FMESH_DATA_DIR`, else `.fmesh` in the working directory. */
export function defaultDataDir(): string {
  return resolve(process.env.FMESH_DATA_DIR ?? '.fmesh')
}
