/**
 * CSRF defence for cookie mode: a state-changing request that a cookie could authenticate must
 * show that it comes from this origin or one in CORS_ORIGINS. Bearer requests cannot be forged
 * by another site (it cannot attach the header), so they pass untouched.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { inCookieMode } from './cookies'
import { declareMiddleware } from './endpoint'
import { ApiError } from './errors'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const CSRF_MESSAGE =
  'Requests that use cookies must come from an allowed origin (send the Origin header).'

/**
 * Origin decides when present; without it only `Sec-Fetch-Site: same-origin` counts, since a
 * request with neither may come from an old browser or a page that suppressed the header.
 */
export const comesFromAllowedOrigin = (
  origin: string | undefined,
  fetchSite: string | undefined,
  ownOrigin: string,
  allowed: readonly string[]
): boolean => {
  if (origin !== undefined) return origin === ownOrigin || allowed.includes(origin)
  return fetchSite === 'same-origin'
}

export const cookieCsrf = (): MiddlewareHandler<AppEnv> =>
  declareMiddleware(
    async function cookieCsrf(c, next) {
      if (SAFE_METHODS.has(c.req.method)) return next()
      // Login and register in cookie mode are checked too: a forged login would plant the attacker's session.
      if (!inCookieMode(c)) return next()
      const allowed = comesFromAllowedOrigin(
        c.req.header('Origin'),
        c.req.header('Sec-Fetch-Site'),
        new URL(c.req.url).origin,
        c.var.services.options.corsOrigins
      )
      if (!allowed) throw new ApiError('forbidden', { message: CSRF_MESSAGE })
      await next()
    },
    { methods: ['POST', 'PUT', 'PATCH', 'DELETE'], errors: ['forbidden'] }
  )
