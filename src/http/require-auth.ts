/**
 * Guards protected routes: read the bearer header or the access cookie, let
 * `services.sessions.authenticate` decide (one liveness rule, renewal included), set the context.
 * It needs no other middleware to have run, so a host app can put it on its own routes; there it
 * also renders its own failures as the contract's JSON, whatever the host's onError does.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { SessionEnded, Unauthenticated } from '../auth/errors'
import type { AppEnv, CookieMode } from '../env'
import type { AuthServices } from '../services'
import { bearerChallenge, bearerToken } from './bearer'
import { refuseForeignCookieWrite } from './cookie-origin'
import {
  clearTokenCookies,
  cookieModeOf,
  isCrossSiteRequest,
  readAccessCookie,
  readRefreshCookie,
  setTokenCookies,
} from './cookies'
import { ApiError } from './errors'
import { handleError } from './handle-error'
import { recordRefreshReuse } from './security-events'

const missingToken = () =>
  new ApiError('missing_token', { headers: { 'WWW-Authenticate': bearerChallenge() } })

const authenticateWithBearer = (c: Context<AppEnv>, services: AuthServices) => {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token) throw missingToken()
  return services.sessions.authenticate(token)
}

/**
 * The access cookie, renewed from the refresh cookie when due: only with a refresh cookie of the
 * access token's own session (a planted one renews nothing), and never for a cross-site request,
 * whose response may not carry the rotated cookies.
 */
const authenticateWithCookies = async (c: Context<AppEnv>, services: AuthServices) => {
  const accessToken = readAccessCookie(c)
  if (!accessToken) throw missingToken()
  try {
    const renewWith = isCrossSiteRequest(c) ? null : (readRefreshCookie(c) ?? null)
    const authenticated = await services.sessions.authenticate(accessToken, { renewWith })
    // Set before the handler runs, so that even an error response delivers the rotated cookies.
    if (authenticated.renewed) setTokenCookies(c, authenticated.renewed)
    return authenticated
  } catch (error) {
    // The one place cookies that can no longer authenticate are dropped, so the page starts clean.
    if (error instanceof Unauthenticated) clearTokenCookies(c)
    if (error instanceof SessionEnded) recordRefreshReuse(c, error.cause)
    throw error
  }
}

/** Decided here when no app middleware did (a host app's route). */
const decidedCookieMode = (c: Context<AppEnv>): CookieMode => {
  let cookieMode = c.get('cookieMode') as CookieMode | undefined
  if (!cookieMode) {
    cookieMode = cookieModeOf(c)
    c.set('cookieMode', cookieMode)
  }
  return cookieMode
}

const authenticateRequest = async (c: Context<AppEnv>, services: AuthServices) => {
  const cookieMode = decidedCookieMode(c)
  const authenticated = cookieMode.authenticates
    ? await authenticateWithCookies(c, services)
    : await authenticateWithBearer(c, services)
  c.set('auth', {
    userId: authenticated.userId,
    sessionId: authenticated.sessionId,
    amr: authenticated.amr,
    authTime: authenticated.authTime,
  })
  c.set('user', authenticated.user)
}

/** The gate of the app's own routes (endpoint({ auth: true })): services come from the context. */
export const requireAuth = (): MiddlewareHandler<AppEnv> =>
  async function requireAuth(c, next) {
    await authenticateRequest(c, c.get('services'))
    await next()
  }

/**
 * The gate for a host app's routes: bound to the services of one createAuth, sets
 * `c.get('services')` too, and answers a failure itself (401 with WWW-Authenticate, 503, 500) as
 * the contract's JSON, so that the host's onError never turns it into its own 500.
 */
export const requireAuthWith = (services: AuthServices): MiddlewareHandler<AppEnv> =>
  async function requireAuth(c, next) {
    c.set('services', services)
    try {
      // No app middleware ran the CSRF check here: a host's write behind cookies needs it too.
      decidedCookieMode(c)
      refuseForeignCookieWrite(c, services)
      await authenticateRequest(c, services)
    } catch (error) {
      const res = handleError(error instanceof Error ? error : new Error(String(error)), c)
      // The contract's header on the answer this gate owns; the host's own answers are its own.
      res.headers.set('X-Content-Type-Options', 'nosniff')
      return res
    }
    await next()
  }
