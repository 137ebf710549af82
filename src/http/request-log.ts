/**
 * A request id on every response, and one structured log line for each request that changed
 * something or failed on the server's side (5xx). Only the route pattern is logged, never the
 * path's ids, the headers, the body or a token.
 *
 * A client error (4xx) writes no line: a stranger could otherwise buy log volume and CPU at will,
 * and what matters of one (a failed login, a replayed refresh token) is a security event, which
 * writes its own. A successful read (GET, HEAD or OPTIONS) writes none either: Workers Logs
 * already records every invocation with its method, URL, status, duration and Ray ID (our request
 * id whenever Cloudflare sends a CF-Ray), and under wrangler dev the console call was half of GET
 * /health's CPU (bench/README.md). This holds only while no GET changes anything: a route that
 * writes must not be a GET (test/round-trips.test.ts counts each route's storage calls).
 */
import type { Context } from 'hono'
import { routePath } from 'hono/route'
import { nowMs } from '../clock'
import type { AppEnv } from '../env'

const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What the log line needs from before the request ran: its id (also set as `requestId`) and start. */
export interface RequestStart {
  requestId: string
  started: number
}

export const startRequest = (c: Context<AppEnv>): RequestStart => {
  const started = nowMs()
  const offered = c.req.header('CF-Ray') ?? ''
  const requestId = REQUEST_ID_PATTERN.test(offered) ? offered : crypto.randomUUID()
  c.set('requestId', requestId)
  return { requestId, started }
}

/**
 * Sets X-Request-Id on the response itself (after next(), c.header() would copy the whole
 * Response; every response here has mutable headers, static-page copies the asset's), then
 * writes the line if the request changed something or failed on the server's side.
 */
export const finishRequest = (c: Context<AppEnv>, headers: Headers, start: RequestStart): void => {
  headers.set('X-Request-Id', start.requestId)
  const status = c.res.status
  if (status < 500 && (status >= 400 || READ_METHODS.has(c.req.method))) return
  console.log(
    JSON.stringify({
      level: status >= 500 ? 'error' : 'info',
      msg: 'request',
      request_id: start.requestId,
      method: c.req.method,
      // The endpoint's pattern, even when a middleware before it answered (say, a 401).
      route: routePath(c, -1),
      status,
      duration_ms: nowMs() - start.started,
      ...(c.error ? { error: c.error.name } : {}),
    })
  )
}
