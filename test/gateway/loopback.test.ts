import { describe, expect, it } from 'vitest'
import { isLoopback } from '../../gateway/_loopback.js'

describe('gateway: which addresses may send a private key to POST /v1/publish', () => {
  it('accepts 127.0.0.0/8 and ::1, also IPv4-mapped', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true)
  })

  it('error: refuses every other address, including look-alikes', () => {
    for (const a of [
      '10.0.0.1',
      '192.168.1.127',
      '::ffff:10.0.0.1',
      '127.0.0.1.evil',
      '1127.0.0.1',
      '::2',
      '',
    ])
      expect(isLoopback(a)).toBe(false)
  })
})
