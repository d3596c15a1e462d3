import * as root from 'function-mesh'
import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'

const BAD: readonly unknown[] = [undefined, null, 42, 'x', [], {}, { nope: 1 }, () => 1]

/** Calls `fn` with every bad value in a few positions; returns what failed without a MeshError. */
async function probe(name: string, fn: (...args: unknown[]) => unknown): Promise<string[]> {
  const escaped: string[] = []
  for (const bad of BAD) {
    for (const args of [[bad], [bad, bad], ['acme.com/x', bad], ['acme.com/x', {}, bad]]) {
      try {
        const result = fn(...args)
        if (result instanceof Promise) {
          const value = await result.catch((err: unknown) => {
            if (!(err instanceof MeshError)) escaped.push(`${name}(${JSON.stringify(args)}): ${String(err)}`)
          })
          const close = (value as { close?: unknown } | undefined)?.close
          if (typeof close === 'function') await (close as () => Promise<void>).call(value)
        }
      } catch (err) {
        if (!(err instanceof MeshError)) escaped.push(`${name}(${JSON.stringify(args)}): ${String(err)}`)
      }
    }
  }
  return escaped
}

describe('bad arguments', () => {
  it('error: every function of the root entry point answers bad arguments with a MeshError', async () => {
    const escaped: string[] = []
    for (const [name, value] of Object.entries(root)) {
      if (typeof value !== 'function' || name === 'MeshError' || name === 'isMeshError') continue
      escaped.push(...(await probe(name, value as (...args: unknown[]) => unknown)))
    }
    expect(escaped).toEqual([])
  })

  it('error: every method of a mesh answers bad arguments with a MeshError', async () => {
    const mesh = await root.createMesh({ ledger: { path: ':memory:' } })
    const escaped: string[] = []
    try {
      const parts: Record<string, object> = {
        mesh,
        marketplace: mesh.marketplace,
        cache: mesh.cache,
        lineage: mesh.lineage,
        billing: mesh.billing,
        leases: mesh.leases,
      }
      for (const [part, target] of Object.entries(parts)) {
        const proto = Object.getPrototypeOf(target) as object
        const inherited = proto === Object.prototype ? [] : Object.getOwnPropertyNames(proto)
        const names = new Set([...Object.keys(target), ...inherited])
        for (const name of names) {
          if (name === 'constructor' || name === 'close' || name === 'start') continue
          const descriptor =
            Object.getOwnPropertyDescriptor(target, name) ?? Object.getOwnPropertyDescriptor(proto, name)
          if (typeof descriptor?.value !== 'function') continue
          const fn = descriptor.value as (...args: unknown[]) => unknown
          escaped.push(...(await probe(`${part}.${name}`, (...args) => fn.apply(target, args))))
        }
      }
    } finally {
      await mesh.close()
    }
    expect(escaped).toEqual([])
  })
})
