import { describe, expect, it } from 'vitest'
import { STATUS_BY_CODE } from '../../gateway/status.js'
import { MeshError } from '../../src/errors/base.js'
import * as cli from '../../src/errors/cli.js'
import * as errors from '../../src/errors/index.js'

describe('CLI errors (src/errors/cli.ts)', () => {
  it('are MeshError subclasses with their code, name, details and hint, exported from function-mesh/errors', () => {
    const cause = new Error('ENOENT')
    const made: [MeshError, string, string][] = [
      [
        new cli.UsageError('--limit must be a number', { flag: '--limit' }, 'e.g. --limit 5'),
        'E_USAGE',
        'UsageError',
      ],
      [new cli.ConfigExistsError('fmesh.json'), 'E_USAGE', 'ConfigExistsError'],
      [new cli.CallInterruptedError('acme.com/x', cause), 'E_INTERRUPTED', 'CallInterruptedError'],
      [
        new cli.FileReadError('Cannot read k.jwk', { details: { file: 'k.jwk' }, cause }),
        'E_FILE_READ',
        'FileReadError',
      ],
      [
        new cli.FileWriteError('Cannot write k.jwk', { details: { path: 'k.jwk' } }),
        'E_FILE_WRITE',
        'FileWriteError',
      ],
      [
        new cli.FileNotJsonError('t.json is not JSON', { details: { file: 't.json' } }),
        'E_FILE_NOT_JSON',
        'FileNotJsonError',
      ],
      [
        new cli.InputNotJsonError('The --input value is not JSON', { hint: 'quote it' }),
        'E_INPUT_NOT_JSON',
        'InputNotJsonError',
      ],
      [new cli.KeyFileError('k.jwk', 'not JSON'), 'E_KEY_INVALID', 'KeyFileError'],
      [new cli.KeyFileInvalidError('k.jwk', cause), 'E_KEY_FILE_INVALID', 'KeyFileInvalidError'],
      [
        new cli.RecordLintError('r.json', { line: 3, column: 5 }, 'name', 'is required'),
        'E_RECORD_SCHEMA',
        'RecordLintError',
      ],
      [
        new cli.VersionNotInRecordError('acme.com/x', '2.0.0', ['1.0.0']),
        'E_NO_MATCHING_VERSION',
        'VersionNotInRecordError',
      ],
      [
        new cli.GatewayUnreachableError('http://127.0.0.1:1/v1/dispatch', 'http://127.0.0.1:1/', cause),
        'E_GATEWAY_UNREACHABLE',
        'GatewayUnreachableError',
      ],
    ]
    for (const [err, code, name] of made) {
      expect(err).toBeInstanceOf(MeshError)
      expect([err.code, err.name, err.toJSON().name]).toEqual([code, name, name])
      expect(Object.hasOwn(STATUS_BY_CODE, code)).toBe(true)
      expect((errors as Record<string, unknown>)[name]).toBe(err.constructor)
    }
    const usage = made[0]![0]
    expect(usage.details).toEqual({ flag: '--limit' })
    expect(usage.hint).toBe('e.g. --limit 5')
    expect(made[9]![0].shortMessage).toBe('r.json:3:5: name is required')
    expect(made[11]![0].details).toEqual({ url: 'http://127.0.0.1:1/v1/dispatch', reason: 'ENOENT' })
    expect(new cli.UsageError('bad').details).toEqual({})
  })
})
