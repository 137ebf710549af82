/** /auth: registration, login, refresh, logout and password change. */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { changePassword, authenticate, forgetRefreshTokens } from '../auth/accounts'
import { clearTokenCookies, setTokenCookies, usesCookies, wantsCookieMode } from '../auth/cookies'
import { hashPassword } from '../auth/password'
import type { IssuedTokens } from '../auth/sessions'
import {
  refreshSession,
  sanitizeUserAgent,
  sessionOfRefreshToken,
  startSession,
} from '../auth/sessions'
import { isoNow, nowSeconds } from '../clock'
import { readConfig, requireSigningSecret } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { presentCookieTokens, presentTokens } from '../http/present'
import { ChangePasswordBody, LoginBody, LogoutBody, RegisterBody } from '../http/schemas'
import { jsonBody } from '../middleware/json-body'
import { refreshTokenBody } from '../middleware/refresh-body'
import { requireAuth } from '../middleware/require-auth'
import { UniqueViolation } from '../store/guard'
import { revokeUserSessions } from '../store/sessions'
import type { PublicUser, UserRow } from '../store/users'
import { emailIsTaken, insertUserStatement } from '../store/users'

const signingSetup = (c: Context<AppEnv>) => ({
  config: readConfig(c.env),
  secret: requireSigningSecret(c.env),
})

/** Token responses must never be cached (RFC 6749 §5.1). */
const tokenResponse = <S extends 200 | 201>(
  c: Context<AppEnv>,
  status: S,
  user: PublicUser,
  tokens: IssuedTokens
) => {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
  if (wantsCookieMode(c)) {
    setTokenCookies(c, tokens)
    return c.json(presentCookieTokens(user, tokens), status)
  }
  return c.json(presentTokens(user, tokens), status)
}

export const authRoutes = new Hono<AppEnv>()
  .post('/register', jsonBody(RegisterBody), async (c) => {
    const { email, password, nickname } = c.req.valid('json')
    const { config, secret } = signingSetup(c)
    if (await emailIsTaken(c.env.DB, email)) throw new ApiError('email_taken')
    const now = isoNow()
    const user: UserRow = {
      id: crypto.randomUUID(),
      email,
      nickname: nickname ?? null,
      password_hash: await hashPassword(password, config.passwordPolicy),
      created_at: now,
      updated_at: now,
    }
    try {
      const tokens = await startSession(
        c.env,
        config,
        secret,
        { userId: user.id, userAgent: sanitizeUserAgent(c.req.header('User-Agent')) },
        [insertUserStatement(c.env.DB, user)]
      )
      return tokenResponse(c, 201, user, tokens)
    } catch (error) {
      // Two registrations raced past the check above; the UNIQUE index decided.
      if (error instanceof UniqueViolation) throw new ApiError('email_taken')
      throw error
    }
  })
  .post('/login', jsonBody(LoginBody), async (c) => {
    const { email, password } = c.req.valid('json')
    const { config, secret } = signingSetup(c)
    const user = await authenticate(c.env, email, password)
    const tokens = await startSession(c.env, config, secret, {
      userId: user.id,
      userAgent: sanitizeUserAgent(c.req.header('User-Agent')),
    })
    return tokenResponse(c, 200, user, tokens)
  })
  .post('/refresh', refreshTokenBody(), async (c) => {
    const { config, secret } = signingSetup(c)
    // The session's owner comes with the session row: no second read of the user.
    const tokens = await refreshSession(c.env, config, secret, c.req.valid('json').refresh_token)
    return tokenResponse(c, 200, tokens.user, tokens)
  })
  .post('/logout', requireAuth(), jsonBody(LogoutBody, { optional: true }), async (c) => {
    const { userId, sessionId } = c.get('auth')
    const { refresh_token: refreshToken } = c.req.valid('json')
    if (
      refreshToken !== undefined &&
      (await sessionOfRefreshToken(c.env, refreshToken)) !== sessionId
    ) {
      throw new ApiError('validation_failed', {
        details: { refresh_token: 'refresh_token does not belong to the current session' },
      })
    }
    const ended = await revokeUserSessions(c.env.DB, userId, { only: sessionId }, nowSeconds())
    await forgetRefreshTokens(c.env, ended)
    if (usesCookies(c)) clearTokenCookies(c)
    return c.body(null, 204)
  })
  .post('/logout-all', requireAuth(), async (c) => {
    const ended = await revokeUserSessions(c.env.DB, c.get('auth').userId, 'all', nowSeconds())
    await forgetRefreshTokens(c.env, ended)
    if (usesCookies(c)) clearTokenCookies(c)
    return c.body(null, 204)
  })
  .post('/password', requireAuth(), jsonBody(ChangePasswordBody), async (c) => {
    const { current_password: currentPassword, new_password: newPassword } = c.req.valid('json')
    await changePassword(c.env, c.get('auth'), currentPassword, newPassword)
    return c.body(null, 204)
  })
