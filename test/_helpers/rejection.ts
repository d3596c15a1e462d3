import { expect } from 'vitest'
import { MeshError } from '../../src/errors/base.js'

/** The MeshError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<MeshError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MeshError)
  return err as MeshError
}
