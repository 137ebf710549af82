/** /auth: registration, login, refresh, logout and password change. */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { authenticate, changePassword, createAccount } from '../auth/accounts'
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
import { ChangePasswordBody, LoginBody, LogoutBody, RegisterBody } from '../http/schemas'
import { loggedOutResponse, tokenResponse } from '../http/token-response'
import { jsonBody } from '../middleware/json-body'
import { refreshTokenBody } from '../middleware/refresh-body'
import { requireAuth } from '../middleware/require-auth'

const signingSetup = (c: Context<AppEnv>) => ({
  config: readConfig(c.env),
  secret: requireSigningSecret(c.env),
})

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
    return loggedOutResponse(c)
  })
  .post('/logout-all', requireAuth(), async (c) => {
    await endSessions(c.env, c.get('auth').userId, 'all')
    return loggedOutResponse(c)
  })
  .post('/password', requireAuth(), jsonBody(ChangePasswordBody), async (c) => {
    const { current_password: currentPassword, new_password: newPassword } = c.req.valid('json')
    await changePassword(c.env, c.get('auth'), currentPassword, newPassword)
    return c.body(null, 204)
  })
