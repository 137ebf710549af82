/**
 * The origin check of cookie mode, apart from the middleware so that the host app's gate
 * (require-auth) runs it too without an import circle through endpoint.ts.
 */
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import type { AuthServices } from '../services'
import { inCookieMode } from './cookies'
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

/** Throws 403 forbidden for a state-changing cookie request from an origin not allowed. */
export const refuseForeignCookieWrite = (c: Context<AppEnv>, services: AuthServices): void => {
  if (SAFE_METHODS.has(c.req.method)) return
  // Login and register in cookie mode are checked too: a forged login would plant the attacker's session.
  if (!inCookieMode(c)) return
  const allowed = comesFromAllowedOrigin(
    c.req.header('Origin'),
    c.req.header('Sec-Fetch-Site'),
    new URL(c.req.url).origin,
    // Read only here: a GET never touches the options (a misconfigured deployment still answers /health).
    services.options.corsOrigins
  )
  if (!allowed) throw new ApiError('forbidden', { message: CSRF_MESSAGE })
}
