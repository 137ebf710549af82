/**
 * CORS for the origins listed in CORS_ORIGINS only. Any other origin gets no CORS header at all,
 * not even on a preflight, so a browser refuses it without learning what the API would allow.
 */
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import type { AppEnv } from '../env'

type CorsOptions = Omit<NonNullable<Parameters<typeof cors>[0]>, 'origin'>

export const corsForListedOrigins = (options: CorsOptions): MiddlewareHandler<AppEnv> => {
  // Only ever reached with an origin already checked against the list.
  const listedOriginCors = cors({ ...options, origin: (origin) => origin })
  return async function corsForListedOrigins(c, next) {
    const origin = c.req.header('Origin')
    // The config is read only when a browser sends an Origin, as before this guard existed.
    const listed = origin !== undefined && c.var.services.options.corsOrigins.includes(origin)
    if (listed) return listedOriginCors(c, next)
    await next()
    // Answers differ by Origin once any origin is listed; shared caches must keep them apart. A
    // cacheable answer says so even to a request without Origin: its stored copy, with no CORS
    // header, would otherwise be served to a listed origin (and the reverse).
    const varies = origin !== undefined && c.var.services.options.corsOrigins.length > 0
    if (varies || c.res.headers.get('Cache-Control')?.startsWith('public')) {
      c.res.headers.append('Vary', 'Origin')
    }
  }
}
