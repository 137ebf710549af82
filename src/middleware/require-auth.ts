/**
 * Guards protected routes: a valid access token whose session is still live. The session check
 * is one indexed D1 read on the primary, so a logout or revocation takes effect on the next
 * request everywhere (SESSION_CHECK=replica trades that for latency: docs/scaling.md).
 * The token comes from `Authorization: Bearer …`, or in cookie mode from the access cookie, which
 * is renewed in passing from the refresh cookie when it has expired or is about to.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { AccessClaims } from '../auth/access-token'
import { MAX_TOKEN_LENGTH, verifyAccessToken } from '../auth/access-token'
import {
  AccessTokenExpired,
  InvalidAccessToken,
  InvalidRefreshToken,
  SessionEnded,
  Unauthenticated,
} from '../auth/errors'
import { refreshSession, sessionOfRefreshToken } from '../auth/sessions'
import { nowSeconds } from '../clock'
import { readConfig } from '../config'
import type { AppConfig } from '../config'
import type { AppEnv } from '../env'
import {
  clearTokenCookies,
  isCrossSiteRequest,
  readAccessCookie,
  readRefreshCookie,
  setTokenCookies,
} from '../http/cookies'
import { ApiError, bearerChallenge } from '../http/errors'
import { findSessionState, sessionCheckReader } from '../store/sessions'
import type { SessionState } from '../store/sessions'

/** As long as the longest token: a longer header is refused before it is parsed. */
export const MAX_AUTHORIZATION_LENGTH = MAX_TOKEN_LENGTH

const SPACE = 0x20

/**
 * The token from `Authorization: Bearer …`, or null when none was sent in that scheme. One pass
 * over the header, no regular expression: a backtracking pattern here let one request with a
 * long run of spaces burn seconds of CPU. Whatever follows the scheme is the token as sent:
 * "Bearer a b" is a malformed token (invalid_token), not a missing one.
 */
export const bearerToken = (authorization: string | undefined): string | null => {
  if (authorization === undefined) return null
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) {
    throw new InvalidAccessToken('The Authorization header is too long')
  }
  const scheme = 'bearer'
  if (authorization.slice(0, scheme.length).toLowerCase() !== scheme) return null
  let start = scheme.length
  let end = authorization.length
  // "Bearerx" is another scheme; "Bearer" alone, or followed by spaces only, sends no token.
  if (start < end && authorization.charCodeAt(start) !== SPACE) return null
  while (start < end && authorization.charCodeAt(start) === SPACE) start++
  while (end > start && authorization.charCodeAt(end - 1) === SPACE) end--
  return start < end ? authorization.slice(start, end) : null
}

const missingToken = () =>
  new ApiError('missing_token', { headers: { 'WWW-Authenticate': bearerChallenge() } })

/**
 * The claims of the access cookie, renewed from the refresh cookie when due: only with a refresh
 * cookie of the access token's own session (a planted one renews nothing), and never for a
 * cross-site request, whose response may not carry the rotated cookies.
 */
const verifyOrRenew = async (
  c: Context<AppEnv>,
  config: AppConfig,
  accessToken: string
): Promise<AccessClaims> => {
  // A genuine but expired token still names its session: renewal is only for that session.
  const claims = await verifyAccessToken(config, accessToken, { acceptExpired: true })
  const remaining = claims.exp - nowSeconds()
  if (remaining > config.accessRefreshMargin) return claims
  const stillValid = (): AccessClaims => {
    if (remaining > 0) return claims
    throw new AccessTokenExpired()
  }
  const refreshToken = readRefreshCookie(c)
  if (!refreshToken || isCrossSiteRequest(c)) return stillValid()
  const refreshOwner = await sessionOfRefreshToken(c.env, refreshToken)
  // Unknown or long gone: nothing to renew with, so the access token's own state decides.
  if (refreshOwner === null) return stillValid()
  if (refreshOwner.sessionId !== claims.sid) {
    throw new InvalidAccessToken('The access and refresh cookies belong to different sessions')
  }

  let tokens
  try {
    // Parallel requests of one page all carry the same refresh cookie: the first rotates it, the
    // others land in refreshSession's grace window and get the same successor, not a theft alarm.
    tokens = await refreshSession(c.env, config, refreshToken)
  } catch (error) {
    if (!(error instanceof InvalidRefreshToken)) throw error
    // The access token may still have a few seconds; otherwise the client learns it expired.
    return stillValid()
  }
  // Set before the handler runs, so that even an error response delivers the rotated cookies.
  setTokenCookies(c, tokens)
  return verifyAccessToken(config, tokens.accessToken)
}

/** The session of the claims, live and still the subject's; throws SessionEnded otherwise. */
const requireLiveSession = async (
  c: Context<AppEnv>,
  claims: AccessClaims
): Promise<SessionState> => {
  const reader = sessionCheckReader(c.env.DB, readConfig(c.env).sessionCheck)
  const session = await findSessionState(reader, claims.sid)
  if (
    session?.user_id !== claims.sub ||
    session.revoked_at !== null ||
    session.expires_at <= nowSeconds()
  ) {
    throw new SessionEnded()
  }
  return session
}

const authenticateWithBearer = async (c: Context<AppEnv>) => {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token) throw missingToken()
  const claims = await verifyAccessToken(readConfig(c.env), token)
  return { claims, session: await requireLiveSession(c, claims) }
}

const authenticateWithCookies = async (c: Context<AppEnv>) => {
  const accessToken = readAccessCookie(c)
  if (!accessToken) throw missingToken()
  try {
    const claims = await verifyOrRenew(c, readConfig(c.env), accessToken)
    return { claims, session: await requireLiveSession(c, claims) }
  } catch (error) {
    // The one place cookies that can no longer authenticate are dropped, so the page starts clean.
    if (error instanceof Unauthenticated) clearTokenCookies(c)
    throw error
  }
}

export const requireAuth = (): MiddlewareHandler<AppEnv> =>
  async function requireAuth(c, next) {
    // Configuration is read only once a token is in hand: a missing token stays a plain 401.
    const { claims, session } = c.get('cookieMode').authenticates
      ? await authenticateWithCookies(c)
      : await authenticateWithBearer(c)
    c.set('auth', { userId: claims.sub, sessionId: claims.sid })
    c.set('user', {
      id: session.user_id,
      email: session.email,
      nickname: session.nickname,
      created_at: session.user_created_at,
      email_verified_at: session.email_verified_at,
    })
    await next()
  }
