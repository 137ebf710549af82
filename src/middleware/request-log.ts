/**
 * One structured log line per request. Only the route pattern is logged, never the path's ids,
 * the headers, the body or a token.
 */
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { nowMs } from '../clock'
import type { AppEnv } from '../env'
import { declareMiddleware } from '../http/endpoint'

const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/

export const requestLog = (): MiddlewareHandler<AppEnv> =>
  declareMiddleware(
    async function requestLog(c, next) {
      const started = nowMs()
      const offered = c.req.header('CF-Ray') ?? ''
      const requestId = REQUEST_ID_PATTERN.test(offered) ? offered : crypto.randomUUID()
      c.set('requestId', requestId)
      await next()
      c.header('X-Request-Id', requestId)
      console.log(
        JSON.stringify({
          level: c.res.status >= 500 ? 'error' : 'info',
          msg: 'request',
          request_id: requestId,
          method: c.req.method,
          // The endpoint's pattern, even when a middleware before it answered (say, a 401).
          route: routePath(c, -1),
          status: c.res.status,
          duration_ms: nowMs() - started,
          ...(c.error ? { error: c.error.name } : {}),
        })
      )
    },
    { headers: ['X-Request-Id'] }
  )
