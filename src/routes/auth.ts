/** /auth: registration, login, refresh, logout and password change. */
import { Hono } from 'hono'
import { changePassword, createAccount, signIn } from '../auth/accounts'
import { Misconfigured } from '../auth/errors'
import { sendAccountLink } from '../auth/recovery'
import {
  endSessions,
  refreshSession,
  sanitizeUserAgent,
  sessionOfRefreshToken,
} from '../auth/sessions'
import { readConfig } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { presentUser } from '../http/present'
import { ChangePasswordBody, LoginBody, LogoutBody, RegisterBody } from '../http/schemas'
import { loggedOutResponse, tokenResponse } from '../http/token-response'
import { createMailer } from '../mail/mailer'
import { jsonBody } from '../middleware/json-body'
import { refreshTokenBody } from '../middleware/refresh-body'
import { requireAuth } from '../middleware/require-auth'

export const authRoutes = new Hono<AppEnv>()
  .post('/register', jsonBody(RegisterBody), async (c) => {
    const config = readConfig(c.env)
    // A new address gets its verification link at once when mail is on (and must, when
    // verification is required: the account could never sign in otherwise).
    const mailer = createMailer(c.env, config.mail)
    if (config.requireEmailVerification && !mailer) {
      throw new Misconfigured('REQUIRE_EMAIL_VERIFICATION needs a MAIL_TRANSPORT')
    }
    const { user, tokens } = await createAccount(c.env, config, {
      ...c.req.valid('json'),
      userAgent: sanitizeUserAgent(c.req.header('User-Agent')),
    })
    if (mailer) {
      c.executionCtx.waitUntil(sendAccountLink(c.env, mailer, 'email_verification', user.email))
    }
    if (!tokens) {
      return c.json({ user: presentUser(user), email_verification_required: true as const }, 201)
    }
    return tokenResponse(c, 201, user, tokens)
  })
  .post('/login', jsonBody(LoginBody), async (c) => {
    const { user, tokens } = await signIn(c.env, readConfig(c.env), {
      ...c.req.valid('json'),
      userAgent: sanitizeUserAgent(c.req.header('User-Agent')),
    })
    return tokenResponse(c, 200, user, tokens)
  })
  .post('/refresh', refreshTokenBody(), async (c) => {
    // The session's owner comes with the session row: no second read of the user.
    const { refresh_token: refreshToken } = c.req.valid('json')
    const tokens = await refreshSession(c.env, readConfig(c.env), refreshToken)
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
    await changePassword(c.env, readConfig(c.env), c.get('auth'), currentPassword, newPassword)
    return c.body(null, 204)
  })
