import { parentPort } from 'node:worker_threads'
import { indexPackWithFiles, type PackFiles, type WantedFiles } from './_packIndex.js'

/** The one pack a pack-index worker is sent, and the files to return from it. */
export interface PackIndexRequest {
  readonly pack: Uint8Array
  readonly want?: WantedFiles | undefined
}

/** Its answer: the idx bytes and the files, or the indexer's error. */
export type PackIndexReply =
  | { readonly idx: Uint8Array; readonly files: (Omit<PackFiles, 'data'> & { data: Uint8Array }) | undefined }
  | { readonly error: { readonly name: string; readonly message: string } }

const port = parentPort
if (port === null)
  throw new Error('_packIndexWorker.ts runs in a worker thread started by indexPackOffThread')

// A pack-index worker (see `indexPackOffThread`): indexes the one pack it is sent.
port.once('message', ({ pack, want }: PackIndexRequest) => {
  let reply: PackIndexReply
  const transfer: ArrayBuffer[] = []
  try {
    const bytes = Buffer.from(pack.buffer, pack.byteOffset, pack.byteLength)
    const { idx, files } = indexPackWithFiles(bytes, want)
    for (const b of [idx, files?.data])
      if (b !== undefined && whole(b)) transfer.push(b.buffer as ArrayBuffer)
    reply = { idx, files }
  } catch (err) {
    reply = { error: { name: (err as Error).name, message: String((err as Error).message) } }
  }
  port.postMessage(reply, transfer)
})

/** Whether `b` spans its whole ArrayBuffer (so the buffer can be transferred, not copied). */
function whole(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
}
