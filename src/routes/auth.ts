/** /auth: registration, login, refresh, logout and password change. */
import { Hono } from 'hono/tiny'
import type * as v from 'valibot'
import { InvalidCredentials } from '../auth/errors'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { SuccessResponse, RouteDocs } from '../http/endpoint'
import { ApiError } from '../http/errors'
import { presentUser } from '../http/present'
import { refreshTokenBody } from '../http/refresh-body'
import {
  ChangePasswordBody,
  IssuedTokensResponse,
  LoginBody,
  LogoutBody,
  MfaRequiredResponse,
  RefreshBody,
  RegisterBody,
  RegisteredResponse,
} from '../http/schemas'
import { recordEvent, recordRefreshReuse } from '../http/security-events'
import {
  loggedOutResponse,
  presentedDeviceToken,
  signInResponse,
  tokenResponse,
} from '../http/token-response'
import { userAgentOf } from '../http/user-agent'

/** The token response, or in cookie mode its variant without the raw tokens. */
// Pure, so that the docs table that calls it stays out of the bundle (src/http/endpoint.ts).
const issuedTokens = /* @__NO_SIDE_EFFECTS__ */ (
  status: 200 | 201,
  description: string,
  body: v.GenericSchema = IssuedTokensResponse
): SuccessResponse => ({
  status,
  description,
  body,
  headers: ['Cache-Control', 'Pragma', 'Set-Cookie'],
})

/** The password was right and the account has a second factor: POST /auth/mfa/verify next. */
export const mfaRequired: SuccessResponse = {
  status: 202,
  description: 'A second factor is needed; no session has begun',
  body: MfaRequiredResponse,
  headers: ['Cache-Control'],
}

const sessionEnded = { status: 204, description: 'Ended', headers: ['Set-Cookie'] } as const

export const authRoutes = new Hono<AppEnv>()
  .post('/register', endpoint({ cookieMode: true, body: RegisterBody }), async (c) => {
    // A new address gets its verification link at once when mail is on.
    const { user, tokens, sendVerification } = await c
      .get('services')
      .accounts.register(c.req.valid('json'), {
        userAgent: userAgentOf(c),
      })
    if (sendVerification) c.executionCtx.waitUntil(sendVerification())
    if (!tokens) {
      return c.json({ user: presentUser(user), email_verification_required: true as const }, 201)
    }
    return tokenResponse(c, 201, user, tokens)
  })
  .post('/login', endpoint({ cookieMode: true, body: LoginBody }), async (c) => {
    // The password is the first factor: a registered feature may ask for a second (202).
    const outcome = await c
      .get('services')
      .signIn.password(c.req.valid('json'), {
        userAgent: userAgentOf(c),
        deviceToken: presentedDeviceToken(c),
      })
      .catch((error: unknown) => {
        // Only an account's own failures: an unknown email has no one to tell.
        if (error instanceof InvalidCredentials && error.userId) {
          recordEvent(c, { type: 'login_failed', userId: error.userId })
        }
        throw error
      })
    if (outcome.kind === 'session') {
      const { userId, sessionId } = outcome.tokens
      recordEvent(c, { type: 'login', userId, sessionId, method: 'pwd' })
    }
    return signInResponse(c, outcome, 200)
  })
  .post(
    '/refresh',
    endpoint({
      cookieMode: true,
      body: RefreshBody,
      bodyRequired: false,
      validate: refreshTokenBody(),
    }),
    async (c) => {
      // The session's owner comes with the session row: no second read of the user.
      const { refresh_token: refreshToken } = c.req.valid('json')
      const tokens = await c
        .get('services')
        .sessions.refresh(refreshToken)
        .catch((error: unknown) => {
          recordRefreshReuse(c, error)
          throw error
        })
      return tokenResponse(c, 200, tokens.user, tokens)
    }
  )
  .post('/logout', endpoint({ auth: true, body: LogoutBody, bodyRequired: false }), async (c) => {
    const { userId, sessionId } = c.get('auth')
    const { refresh_token: refreshToken } = c.req.valid('json')
    if (
      refreshToken !== undefined &&
      (await c.get('services').sessions.ofRefreshToken(refreshToken))?.sessionId !== sessionId
    ) {
      throw new ApiError('validation_failed', {
        details: { refresh_token: 'refresh_token does not belong to the current session' },
      })
    }
    await c.get('services').sessions.end(userId, { only: sessionId })
    recordEvent(c, { type: 'session_revoked', userId, sessionId })
    return loggedOutResponse(c)
  })
  .post('/logout-all', endpoint({ auth: true }), async (c) => {
    const { userId } = c.get('auth')
    await c.get('services').sessions.end(userId, 'all')
    // Every session ended: no one session to name.
    recordEvent(c, { type: 'session_revoked', userId })
    return loggedOutResponse(c)
  })
  .post('/password', endpoint({ auth: true, body: ChangePasswordBody }), async (c) => {
    const { current_password: currentPassword, new_password: newPassword } = c.req.valid('json')
    const auth = c.get('auth')
    await c.get('services').accounts.changePassword(auth, currentPassword, newPassword)
    recordEvent(c, { type: 'password_changed', userId: auth.userId, sessionId: auth.sessionId })
    return c.body(null, 204)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const authDocs = {
  'POST /auth/register': {
    summary: 'Create an account and start a session',
    description:
      'With REQUIRE_EMAIL_VERIFICATION=true no session begins: the body is the user and `email_verification_required`.',
    tag: 'auth',
    success: issuedTokens(
      201,
      'The account exists (and, unless verification is required, its first session)',
      RegisteredResponse
    ),
    errors: ['email_taken', 'server_misconfigured', 'service_unavailable'],
  },
  'POST /auth/login': {
    summary: 'Start a session with email and password',
    tag: 'auth',
    deviceToken: true,
    success: issuedTokens(200, 'A new session has begun'),
    alsoSuccess: [mfaRequired],
    errors: [
      'invalid_credentials',
      'email_not_verified',
      'too_many_requests',
      'server_misconfigured',
      'service_unavailable',
    ],
  },
  'POST /auth/refresh': {
    summary: 'Rotate a refresh token for a new token pair',
    description:
      'The body may be left out in cookie mode (`X-Auth-Mode: cookie`): the refresh cookie stands in for it.',
    tag: 'auth',
    success: issuedTokens(
      200,
      'The session goes on with a new token pair; the old refresh token is dead'
    ),
    errors: ['invalid_refresh_token', 'server_misconfigured', 'service_unavailable'],
  },
  'POST /auth/logout': {
    summary: 'End the current session',
    description:
      'A `refresh_token`, when sent, must belong to the current session. In cookie mode the cookies are cleared.',
    tag: 'auth',
    success: sessionEnded,
  },
  'POST /auth/logout-all': {
    summary: 'End every session of the user',
    tag: 'auth',
    success: sessionEnded,
  },
  'POST /auth/password': {
    summary: 'Change the password; ends every other session',
    tag: 'auth',
    success: { status: 204, description: 'Changed', headers: ['Set-Cookie'] },
    errors: [['invalid_credentials', 403], 'too_many_requests'],
  },
} satisfies RouteDocs
