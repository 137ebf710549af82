/** /auth: registration, login, refresh, logout and password change. */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { authenticate, changePassword, createAccount } from '../auth/accounts'
import { clearTokenCookies, setTokenCookies, usesCookies, wantsCookieMode } from '../auth/cookies'
import type { IssuedTokens } from '../auth/sessions'
import {
  endSessions,
  refreshSession,
  sanitizeUserAgent,
  sessionOfRefreshToken,
  startSession,
} from '../auth/sessions'
import { readConfig, requireSigningSecret } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { presentCookieTokens, presentTokens } from '../http/present'
import { ChangePasswordBody, LoginBody, LogoutBody, RegisterBody } from '../http/schemas'
import { jsonBody } from '../middleware/json-body'
import { refreshTokenBody } from '../middleware/refresh-body'
import { requireAuth } from '../middleware/require-auth'
import type { PublicUser } from '../store/users'

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
    const { config, secret } = signingSetup(c)
    const { user, tokens } = await createAccount(c.env, config, secret, {
      ...c.req.valid('json'),
      userAgent: sanitizeUserAgent(c.req.header('User-Agent')),
    })
    return tokenResponse(c, 201, user, tokens)
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
      (await sessionOfRefreshToken(c.env, refreshToken))?.sessionId !== sessionId
    ) {
      throw new ApiError('validation_failed', {
        details: { refresh_token: 'refresh_token does not belong to the current session' },
      })
    }
    await endSessions(c.env, userId, { only: sessionId })
    if (usesCookies(c)) clearTokenCookies(c)
    return c.body(null, 204)
  })
  .post('/logout-all', requireAuth(), async (c) => {
    await endSessions(c.env, c.get('auth').userId, 'all')
    if (usesCookies(c)) clearTokenCookies(c)
    return c.body(null, 204)
  })
  .post('/password', requireAuth(), jsonBody(ChangePasswordBody), async (c) => {
    const { current_password: currentPassword, new_password: newPassword } = c.req.valid('json')
    await changePassword(c.env, c.get('auth'), currentPassword, newPassword)
    return c.body(null, 204)
  })
