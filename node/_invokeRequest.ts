import type { z } from 'zod'
import type { MeshError } from '../src/errors/base.js'
import type { Marketplace } from '../src/marketplace/Marketplace.js'
import type { ServeInvocationsOptions } from './_invokeOptions.js'
import { decodeJson, firstIssue, INVOKE_VERSIONS, type RequestHeader } from './_invokeWire.js'
import {
  InvokeProtocolError,
  PeerFunctionNotHostedError,
  PeerRequestTooLargeError,
  PeerVersionError,
} from './invokeErrors.js'

/** A request that passed every check, ready for `mesh.call`. */
export interface CheckedRequest {
  readonly header: RequestHeader
  readonly input: unknown
  readonly name: string
  readonly version: string
}

/**
 * The host's checks of a request's frames, the same on `/fmesh/invoke/1.0.0` and on the keep-alive
 * `/fmesh/invoke/1.1.0`: each returns the `MeshError` to answer with, never throws for a peer's input.
 */
export class RequestChecks {
  constructor(
    private readonly maxHeaderBytes: number,
    private readonly maxInputBytes: number,
    private readonly marketplace: Pick<Marketplace, 'get'>,
    private readonly allow: ServeInvocationsOptions['allow'],
  ) {}

  /** A request header frame checked against `schema`: its size, JSON, version, fields and input size. */
  header<T extends RequestHeader>(
    frame: { byteLength: number; subarray(): Uint8Array },
    peer: string,
    schema: z.ZodType<T>,
  ): T | MeshError {
    if (frame.byteLength > this.maxHeaderBytes)
      return new PeerRequestTooLargeError(peer, 'header', frame.byteLength, this.maxHeaderBytes)
    let raw: unknown
    try {
      raw = decodeJson(frame.subarray())
    } catch (err) {
      return new InvokeProtocolError(peer, '(header)', 'is not UTF-8 JSON', err)
    }
    const v = (raw as { v?: unknown } | null)?.v
    if (typeof v !== 'number' || !INVOKE_VERSIONS.includes(v))
      return new PeerVersionError(peer, v, INVOKE_VERSIONS)
    const parsed = schema.safeParse(raw)
    if (!parsed.success) {
      const [field, rule] = firstIssue(parsed.error)
      return new InvokeProtocolError(peer, field, rule)
    }
    if (parsed.data.inputBytes > this.maxInputBytes)
      return new PeerRequestTooLargeError(peer, 'input', parsed.data.inputBytes, this.maxInputBytes)
    return parsed.data
  }

  /** The refusal for a frame that could not be read (too long, cut off). */
  frameError(peer: string, err: unknown): MeshError {
    if ((err as Error)?.name === 'InvalidDataLengthError')
      return new PeerRequestTooLargeError(
        peer,
        'frame',
        undefined,
        Math.max(this.maxHeaderBytes, this.maxInputBytes),
      )
    return new InvokeProtocolError(peer, '(frame)', `could not be read (${(err as Error)?.message})`, err)
  }

  /** The input frame checked against its header, and the function against what this node hosts. */
  request(peer: string, header: RequestHeader, inputFrame: Uint8Array): CheckedRequest | MeshError {
    if (inputFrame.byteLength !== header.inputBytes)
      return new InvokeProtocolError(
        peer,
        'inputBytes',
        `says ${header.inputBytes} but the frame has ${inputFrame.byteLength}`,
      )
    const at = header.fn.lastIndexOf('@')
    const name = header.fn.slice(0, at)
    const version = header.fn.slice(at + 1)
    if (
      at <= 0 ||
      this.marketplace.get(name, version) === undefined ||
      (this.allow !== undefined && !this.allow({ name, version, peer }))
    )
      return new PeerFunctionNotHostedError(peer, header.fn)
    let input: unknown
    try {
      input = decodeJson(inputFrame)
    } catch (err) {
      return new InvokeProtocolError(peer, 'input', 'is not UTF-8 JSON', err)
    }
    return { header, input, name, version }
  }
}
