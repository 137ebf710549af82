/**
 * Guards protected routes: a valid access token whose session is still live. The session check
 * is one indexed D1 read, so a logout or revocation takes effect on the next request everywhere.
 */
import type { MiddlewareHandler } from 'hono'
import { bearerChallenge, verifyAccessToken } from '../auth/access-token'
import { clearTokenCookies } from '../auth/cookies'
import { nowSeconds } from '../clock'
import { readConfig, requireSigningSecret } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { findSessionState } from '../store/sessions'
import { authenticateWithCookies } from './cookie-auth'

/** The token from `Authorization: Bearer …`, or null when none was sent in that scheme. */
export const bearerToken = (authorization: string | undefined): string | null => {
  // Whatever follows the scheme is the token as sent: "Bearer a b" is a malformed token
  // (invalid_token), not a missing one.
  const match = /^Bearer(?:[ ]+(.*?))?[ ]*$/i.exec(authorization ?? '')
  return match?.[1] ? match[1] : null
}

export const requireAuth = (): MiddlewareHandler<AppEnv> =>
  async function requireAuth(c, next) {
    const verify = (jwt: string) =>
      verifyAccessToken(readConfig(c.env), requireSigningSecret(c.env), jwt)
    // No Authorization header at all: a browser in cookie mode (README, "Browser apps").
    const viaCookie = c.req.header('Authorization') === undefined
    const token = viaCookie ? null : bearerToken(c.req.header('Authorization'))
    if (!viaCookie && !token) {
      throw new ApiError('missing_token', { headers: { 'WWW-Authenticate': bearerChallenge() } })
    }
    const claims = token ? await verify(token) : await authenticateWithCookies(c, verify)
    const session = await findSessionState(c.env.DB, claims.sid)
    if (
      session?.user_id !== claims.sub ||
      session.revoked_at !== null ||
      session.expires_at <= nowSeconds()
    ) {
      if (viaCookie) clearTokenCookies(c)
      throw new ApiError('token_revoked', {
        headers: { 'WWW-Authenticate': bearerChallenge('The session has ended') },
      })
    }
    c.set('auth', { userId: claims.sub, sessionId: claims.sid, claims })
    c.set('user', {
      id: session.user_id,
      email: session.email,
      nickname: session.nickname,
      created_at: session.user_created_at,
    })
    await next()
  }
