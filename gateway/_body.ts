import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { BodyMalformedError, BodyTooLargeError, UnsupportedMediaTypeError } from './errors.js'

/**
 * The request body as text, at most `maxBytes`. On the Node server the body is read straight from
 * the `IncomingMessage`, with the limit applied to the declared length and again as bytes arrive, so
 * no web `Request` (its stream, signal and headers) is built for it, which costs more than the rest of
 * a call's HTTP handling. A request that came through `fetch` (no Node binding) was limited by hono's
 * bodyLimit and is read as usual.
 */
export async function readBody(c: Context, maxBytes: number): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (incoming === undefined || incoming.readableEnded || typeof incoming.on !== 'function')
    return c.req.text()
  return readIncoming(incoming, maxBytes)
}

/** A Node request's body as text, at most `maxBytes` (declared, and counted as it arrives). */
export function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(incoming.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes))
  return new Promise<string>((resolve, reject) => {
    ;(incoming as Reading)[READ] = { chunks: [], size: 0, maxBytes, resolve, reject }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
  })
}

/**
 * A body being read. The listeners are shared module functions (an emitter calls them with itself as
 * `this`) and the state rides on the request, so a read makes no closures beyond its promise's.
 */
interface BodyRead {
  chunks: Buffer[]
  size: number
  readonly maxBytes: number
  readonly resolve: (text: string) => void
  readonly reject: (err: Error) => void
}

const READ = Symbol('fmesh.bodyRead')
type Reading = IncomingMessage & { [READ]?: BodyRead | undefined }

function onData(this: Reading, chunk: Buffer): void {
  const read = this[READ]!
  read.size += chunk.length
  if (read.size > read.maxBytes) {
    done(this)
    // Stop reading; the rest of the body is discarded with the connection's next request.
    this.resume()
    read.reject(new BodyTooLargeError(read.maxBytes))
    return
  }
  read.chunks.push(chunk)
}

function onEnd(this: Reading): void {
  const { chunks, size, resolve } = done(this)
  resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'))
}

function onError(this: Reading, err: Error): void {
  done(this).reject(err)
}

function done(incoming: Reading): BodyRead {
  const read = incoming[READ]!
  incoming[READ] = undefined
  incoming.off('data', onData)
  incoming.off('end', onEnd)
  incoming.off('error', onError)
  return read
}

/** Refuses a request body that is not declared `application/json` (parameters such as charset allowed). */
export function requireJson(type: string | undefined): void {
  if ((type ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/json')
    throw new UnsupportedMediaTypeError(type)
}

/** The body's JSON value; an empty or malformed body is a `BodyMalformedError`. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new BodyMalformedError('the body is empty')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new BodyMalformedError((err as Error).message)
  }
}
