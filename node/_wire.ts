import type { Stream } from '@libp2p/interface'
import { type LengthPrefixedStream, lpStream } from '@libp2p/utils'
import { isMeshError, MeshError } from '../src/errors/base.js'
import {
  PeerMessageTooLargeError,
  PeerProtocolError,
  PeerRemoteError,
  PeerRequestInvalidError,
  PeerVersionUnsupportedError,
} from './errors.js'
import { WIRE_VERSIONS } from './limits.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A length-prefixed view of a stream whose frames are at most `maxBytes`. */
export function frames(stream: Stream, maxBytes: number): LengthPrefixedStream<Stream> {
  return lpStream(stream, { maxDataLength: maxBytes })
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

/** Reads one frame; a frame over the limit becomes `E_PEER_MESSAGE_TOO_LARGE`. */
export async function readFrame(
  lp: LengthPrefixedStream<Stream>,
  what: { protocol: string; peer: string; limit: number },
  signal: AbortSignal,
): Promise<Uint8Array> {
  try {
    return (await lp.read({ signal })).subarray()
  } catch (err) {
    const name = (err as { name?: string }).name
    if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError')
      throw new PeerMessageTooLargeError(what.protocol, what.limit, what.peer, err)
    throw err
  }
}

/**
 * Parses a JSON control message and checks its version: what a peer sent is untrusted, so a wrong
 * shape is a `MeshError` naming the rule, never a `TypeError`.
 */
export function decodeMessage(bytes: Uint8Array, protocol: string, peer: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    throw new PeerRequestInvalidError(protocol, 'the message is not UTF-8 JSON', peer)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PeerRequestInvalidError(protocol, 'the message must be a JSON object', peer)
  const v = (value as { v?: unknown }).v
  if (!(WIRE_VERSIONS as readonly unknown[]).includes(v))
    throw new PeerVersionUnsupportedError(protocol, v, WIRE_VERSIONS, peer)
  return value as Record<string, unknown>
}

/** Parses an answer header: `{ v, ok: true, ... }`, or `{ v, ok: false, error }` raised as the remote error. */
export function decodeAnswer(bytes: Uint8Array, protocol: string, peer: string): Record<string, unknown> {
  let message: Record<string, unknown>
  try {
    message = decodeMessage(bytes, protocol, peer)
  } catch (err) {
    throw new PeerProtocolError(protocol, peer, (err as MeshError).shortMessage, err)
  }
  if (message.ok === true) return message
  throw remoteError(protocol, peer, message.error)
}

/** The error frame a server answers with: the `MeshError` JSON (other errors say only that it failed). */
export function errorFrame(err: unknown): Uint8Array {
  const error = isMeshError(err)
    ? err.toJSON()
    : new MeshError('E_PEER_INTERNAL', 'The peer failed to answer the request').toJSON()
  return encodeJson({ v: 1, ok: false, error })
}

function remoteError(protocol: string, peer: string, error: unknown): MeshError {
  return new PeerRemoteError(protocol, peer, error)
}

/** Ends a stream we are done with; an abort if closing fails, so no stream outlives its exchange. */
export async function finish(stream: Stream, signal: AbortSignal): Promise<void> {
  try {
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err as Error)
  }
}

/**
 * A deadline for one stream: when it fires the stream is aborted (so every pending read and write
 * fails at once) and `signal` fires. `clear` once the exchange is over.
 */
export function streamDeadline(
  stream: Stream,
  timeoutMs: number,
  outer?: AbortSignal,
): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController()
  const onAbort = () => {
    controller.abort(outer?.reason)
    stream.abort(new Error('stream aborted'))
  }
  const timer = setTimeout(() => {
    controller.abort(new Error(`timed out after ${timeoutMs} ms`))
    stream.abort(new Error(`timed out after ${timeoutMs} ms`))
  }, timeoutMs)
  outer?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    },
  }
}
