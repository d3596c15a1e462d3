import { createRequire } from 'node:module'
import type { Ajv, ValidateFunction } from 'ajv'
import { InputInvalidError, OutputInvalidError, SchemaInvalidError } from '../errors/invoke.js'

// Ajv loads on the first schema compiled, not with the mesh: `fmesh resolve`, `ls` and `publish`
// never check a call's input, and Ajv is a noticeable share of a one-shot command's start.
const require = createRequire(import.meta.url)

type Check = ValidateFunction | null

/**
 * JSON Schema validators, compiled once per schema object (a version's descriptor is one object for
 * as long as its record is cached) and reused for every call.
 */
export class SchemaCache {
  private ajvInstance: Ajv | undefined
  private readonly compiled = new WeakMap<object, Check>()

  /** Throws `InputInvalidError` unless `input` matches `schema` (no schema: anything goes). */
  checkInput(name: string, version: string, schema: object | undefined, input: unknown): void {
    if (schema === undefined) return
    const validate = this.get(schema, name, version, 'inputSchema')
    if (validate === null || validate(input)) return
    const e = validate.errors?.[0]
    throw new InputInvalidError(
      name,
      version,
      e?.instancePath || '(root)',
      e?.message ?? 'does not match the schema',
    )
  }

  /** Throws `OutputInvalidError` unless `output` matches `schema`. */
  checkOutput(
    name: string,
    version: string,
    provider: string,
    schema: object | undefined,
    output: unknown,
  ): void {
    if (schema === undefined) return
    const validate = this.get(schema, name, version, 'outputSchema')
    if (validate === null || validate(output)) return
    const e = validate.errors?.[0]
    throw new OutputInvalidError(
      name,
      version,
      provider,
      e?.instancePath || '(root)',
      e?.message ?? 'does not match the schema',
    )
  }

  private get ajv(): Ajv {
    this.ajvInstance ??= new (require('ajv') as typeof import('ajv')).Ajv({
      strict: false,
      allErrors: false,
      logger: false,
      validateFormats: false,
    })
    return this.ajvInstance
  }

  private get(schema: object, name: string, version: string, which: 'inputSchema' | 'outputSchema'): Check {
    let validate = this.compiled.get(schema)
    if (validate === undefined) {
      try {
        validate = Object.keys(schema).length === 0 ? null : this.ajv.compile(schema)
      } catch (err) {
        throw new SchemaInvalidError(name, version, which, (err as Error).message)
      }
      this.compiled.set(schema, validate)
    }
    return validate
  }
}
