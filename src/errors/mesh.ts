import { MeshError } from './base.js'

/** The mesh was closed: it refuses every further operation. */
export class MeshClosedError extends MeshError {
  override name = 'MeshClosedError'
  constructor(operation: string) {
    super('E_MESH_CLOSED', `Cannot ${operation}: the mesh is closed`, {
      details: { operation },
      hint: 'Create a new mesh with createMesh(); a closed mesh does not reopen.',
    })
  }
}

/** A public function was called with an argument of the wrong kind. */
export class InvalidArgumentError extends MeshError {
  override name = 'InvalidArgumentError'
  constructor(fn: string, argument: string, expected: string, got: unknown) {
    super('E_INVALID_ARGUMENT', `${fn}: ${argument} must be ${expected}`, {
      details: { function: fn, argument, expected, got: describeValue(got) },
      hint: `Pass ${argument} as ${expected}; see the README for ${fn}.`,
    })
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
