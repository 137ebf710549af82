/**
 * CORS for the origins listed in CORS_ORIGINS only. Any other origin gets no CORS header at all,
 * not even on a preflight, so a browser refuses it without learning what the API would allow.
 * The response frame (frame.ts) calls `listedOriginCors` around a listed origin's request and
 * `varyOnOrigin` after every other one. The policy is fixed, so it is written out here rather
 * than built by hono/cors from options at every request (and its generic code left the bundle).
 */
import type { Context, Next } from 'hono'
import type { AppEnv } from '../env'

const ALLOW_METHODS = 'GET,POST,PATCH,DELETE'
const ALLOW_HEADERS = 'Authorization,Content-Type,X-Auth-Mode,X-Device-Token'
const EXPOSE_HEADERS = 'Retry-After,WWW-Authenticate,X-Request-Id'
const MAX_AGE_SECONDS = '600'

/**
 * A listed origin: credentialed CORS (cookie mode from a same-site front end needs it). A
 * preflight is answered here, 204, as a middleware's own response; any other request goes on.
 */
export const listedOriginCors = async (
  c: Context<AppEnv>,
  origin: string,
  next: Next
): Promise<Response | undefined> => {
  // On the context's response before the route runs: the route's response takes them over.
  const headers = c.res.headers
  headers.set('Access-Control-Allow-Origin', origin)
  headers.set('Access-Control-Allow-Credentials', 'true')
  headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS)
  if (c.req.method === 'OPTIONS') {
    headers.append('Vary', 'Origin')
    headers.set('Access-Control-Max-Age', MAX_AGE_SECONDS)
    headers.set('Access-Control-Allow-Methods', ALLOW_METHODS)
    headers.set('Access-Control-Allow-Headers', ALLOW_HEADERS)
    headers.append('Vary', 'Access-Control-Request-Headers')
    headers.delete('Content-Length')
    headers.delete('Content-Type')
    return new Response(null, { headers, status: 204, statusText: 'No Content' })
  }
  await next()
  c.res.headers.append('Vary', 'Origin')
}

/**
 * Answers differ by Origin once any origin is listed; shared caches must keep them apart. A
 * cacheable answer says so even to a request without Origin: its stored copy, with no CORS
 * header, would otherwise be served to a listed origin (and the reverse). `cacheControl` is the
 * response's own, before the no-store default.
 */
export const varyOnOrigin = (
  headers: Headers,
  origin: string | undefined,
  corsOrigins: readonly string[],
  cacheControl: string | null
): void => {
  if ((origin !== undefined && corsOrigins.length > 0) || cacheControl?.startsWith('public')) {
    headers.append('Vary', 'Origin')
  }
}
