/** /auth: a second factor after the first (mfa/verify) and proving it again (reauthenticate). */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { SuccessResponse, RouteDocs } from '../http/endpoint'
import { IssuedTokensResponse, MfaVerifyBody, ReauthenticateBody } from '../http/schemas'
import { recordEvent, recordMfaFailure } from '../http/security-events'
import { tokenResponse } from '../http/token-response'
import { userAgentOf } from '../http/user-agent'

// Pure, so that the docs table that calls it stays out of the bundle (src/http/endpoint.ts).
const tokens = /* @__NO_SIDE_EFFECTS__ */ (description: string): SuccessResponse => ({
  status: 200,
  description,
  body: IssuedTokensResponse,
  headers: ['Cache-Control', 'Pragma', 'Set-Cookie'],
})

export const stepUpRoutes = new Hono<AppEnv>()
  .post('/mfa/verify', endpoint({ cookieMode: true, body: MfaVerifyBody }), async (c) => {
    const { mfa_token: mfaToken, ...answer } = c.req.valid('json')
    const { user, tokens: issued } = await c.var.services.secondFactor
      .verify(mfaToken, answer, { userAgent: userAgentOf(c) })
      .catch((error: unknown) => recordMfaFailure(c, error, answer.method))
    const { userId, sessionId } = issued
    recordEvent(c, { type: 'login', userId, sessionId, method: answer.method })
    return tokenResponse(c, 200, user, issued)
  })
  .post(
    '/reauthenticate',
    endpoint({ auth: true, cookieMode: true, body: ReauthenticateBody }),
    async (c) => {
      const subject = { user: c.get('user'), sessionId: c.get('auth').sessionId }
      const proof = c.req.valid('json')
      const renewed = await c.var.services.secondFactor
        .reauthenticate(subject, proof)
        .catch((error: unknown) => recordMfaFailure(c, error, proof.method))
      return tokenResponse(c, 200, renewed.user, renewed)
    }
  )

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const stepUpDocs = {
  'POST /auth/mfa/verify': {
    summary: 'Finish a sign-in with a second factor',
    tag: 'auth',
    success: tokens('A new session has begun'),
    errors: [
      'invalid_mfa_code',
      'invalid_mfa_token',
      'invalid_passkey',
      'too_many_requests',
      'server_misconfigured',
      'service_unavailable',
    ],
  },
  'POST /auth/reauthenticate': {
    summary: 'Sign in again: a new auth_time',
    tag: 'auth',
    success: tokens('The same session, a new refresh token'),
    errors: [
      ['invalid_credentials', 403],
      'invalid_mfa_code',
      'invalid_passkey',
      'too_many_requests',
    ],
  },
} satisfies RouteDocs
