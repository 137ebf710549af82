/**
 * Request bodies over the limit are refused with 413, with or without Content-Length. Unlike
 * hono/body-limit, a chunked body that overflows is read to its end (and dropped) rather than
 * left half-read with its reader locked: under `wrangler dev` an abandoned upload broke the
 * connection (500 "Network connection lost", or a 503 on the client's next request), where the
 * contract wants it reusable. Only the first 16 KiB are ever kept; the platform bounds the rest
 * (Cloudflare refuses bodies over 100 MB at the edge).
 */
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from './errors'

const tooLarge = (): ApiError => new ApiError('payload_too_large')

const discardRest = async (reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> => {
  try {
    for (;;) {
      const { done } = await reader.read()
      if (done) return
    }
  } catch {
    // The client went away: nothing left to keep usable.
  }
}

/**
 * A step of the request gate (csrf.ts), not a middleware of its own: one layer fewer on every
 * request. Nothing to wait for (undefined) unless a body without a declared length must be read.
 */
export const limitBody = (c: Context<AppEnv>, maxBytes: number): Promise<void> | undefined => {
  const request = c.req.raw
  if (!request.body) return undefined
  const declared = request.headers.get('Content-Length')
  // A declared length decides up front (the runtime discards a known-length body it never reads).
  if (declared !== null && !request.headers.has('Transfer-Encoding')) {
    if (Number(declared) > maxBytes) throw tooLarge()
    return undefined
  }
  return readWithin(c, request, maxBytes)
}

const readWithin = async (
  c: Context<AppEnv>,
  request: Request,
  maxBytes: number
): Promise<void> => {
  const reader = (request.body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      // The rest of the upload is read and dropped before the 413 leaves: the connection is then
      // at a request boundary again. Cancelling instead (or answering in the middle) made
      // wrangler dev reset the connection, sometimes before the 413 itself was delivered.
      await discardRest(reader)
      throw tooLarge()
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  c.req.raw = new Request(request, { body })
}
