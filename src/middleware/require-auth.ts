/**
 * Guards protected routes: a valid access token whose session is still live. The session check
 * is one indexed D1 read, so a logout or revocation takes effect on the next request everywhere.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { bearerChallenge, verifyAccessToken } from '../auth/access-token'
import { nowSeconds } from '../clock'
import { readConfig, requireSigningSecret } from '../config'
import { ApiError } from '../http/errors'
import { findSessionState } from '../store/sessions'

/** The token from `Authorization: Bearer …`, or null when none was sent in that scheme. */
export const bearerToken = (authorization: string | undefined): string | null => {
  // Whatever follows the scheme is the token as sent: "Bearer a b" is a malformed token
  // (invalid_token), not a missing one.
  const match = /^Bearer(?:[ ]+(.*?))?[ ]*$/i.exec(authorization ?? '')
  return match?.[1] ? match[1] : null
}

export const requireAuth = (): MiddlewareHandler<AppEnv> =>
  async function requireAuth(c, next) {
    const token = bearerToken(c.req.header('Authorization'))
    if (!token) throw new ApiError('missing_token', { headers: { 'WWW-Authenticate': bearerChallenge() } })
    const claims = await verifyAccessToken(readConfig(c.env), requireSigningSecret(c.env), token)
    const session = await findSessionState(c.env.DB, claims.sid)
    if (!session || session.user_id !== claims.sub || session.revoked_at !== null || session.expires_at <= nowSeconds()) {
      throw new ApiError('token_revoked', {
        headers: { 'WWW-Authenticate': bearerChallenge('The session has ended') },
      })
    }
    c.set('auth', { userId: claims.sub, sessionId: claims.sid, claims })
    await next()
  }
