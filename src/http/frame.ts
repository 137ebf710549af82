/**
 * The one middleware around every request: it provides the services, starts the request log,
 * runs CORS for a listed origin, and after the route has answered puts on the headers every
 * response carries (Cache-Control's no-store default, the security headers, X-Request-Id) and
 * writes the log line. One async frame instead of five: each middleware layer costs an await, a
 * closure and a dispatch step on every request, /health included (bench/README.md).
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import type { AuthServices } from '../services'
import { listedOriginCors, varyOnOrigin } from './cors-allowlist'
import { declareMiddleware } from './endpoint'
import { handleError } from './handle-error'
import { finishRequest, startRequest } from './request-log'
import { setSecurityHeaders } from './security-headers'

export const responseFrame = (
  servicesOf: (c: Context<AppEnv>) => AuthServices
): MiddlewareHandler<AppEnv> =>
  declareMiddleware(
    async function responseFrame(c, next) {
      const services = servicesOf(c)
      c.set('services', services)
      const start = startRequest(c)
      const origin = c.req.header('Origin')
      // The config is read only when a browser sends an Origin.
      let corsOrigins: readonly string[] = []
      try {
        if (origin !== undefined) corsOrigins = services.options.corsOrigins
      } catch (error) {
        // A misconfigured deployment: rendered as a route's error would be, headers and all.
        c.error = error as Error
        c.res = handleError(c.error, c)
      }
      const listed = origin !== undefined && corsOrigins.includes(origin)
      if (listed) {
        // A preflight is answered by CORS itself, as a middleware's own response.
        const res = await listedOriginCors(c, origin, next)
        if (res && !c.finalized) c.res = res
      } else if (!c.finalized) {
        await next()
      }
      // Set on the response itself: after next(), c.header() would copy the whole Response.
      const headers = c.res.headers
      const cacheControl = headers.get('Cache-Control')
      if (!listed) varyOnOrigin(headers, origin, corsOrigins, cacheControl)
      // Responses carry personal data or tokens; only explicitly public ones may be cached.
      if (cacheControl === null) headers.set('Cache-Control', 'no-store')
      setSecurityHeaders(headers, c.res.status)
      finishRequest(c, headers, start)
    },
    { headers: ['X-Request-Id', 'Cache-Control'] }
  )
