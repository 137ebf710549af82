/** /auth/password/forgot, /auth/password/reset, /auth/email/verification, /auth/email/verify. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { presentUser } from '../http/present'
import {
  AcceptedResponse,
  EmailOnlyBody,
  ResetPasswordBody,
  UserResponse,
  VerifyEmailBody,
} from '../http/schemas'
import { recordEvent } from '../http/security-events'
import type { AccountLinkPurpose } from '../mail/message'

/**
 * The same 202 for every address: nothing about the account is read before answering, and the
 * lookup, the token and the message all happen after the response.
 */
const acceptAndSend = (c: Context<AppEnv>, purpose: AccountLinkPurpose, email: string) => {
  c.executionCtx.waitUntil(c.var.services.recovery.sendLink(purpose, email)())
  return c.json({ status: 'accepted' as const }, 202)
}

export const recoveryRoutes = new Hono<AppEnv>()
  .post('/password/forgot', endpoint({ body: EmailOnlyBody }), (c) =>
    acceptAndSend(c, 'password_reset', c.req.valid('json').email)
  )
  .post('/password/reset', endpoint({ body: ResetPasswordBody }), async (c) => {
    const { token, new_password: newPassword } = c.req.valid('json')
    const userId = await c.var.services.recovery.resetPassword(token, newPassword)
    recordEvent(c, { type: 'password_reset', userId })
    return c.body(null, 204)
  })
  .post('/email/verification', endpoint({ body: EmailOnlyBody }), (c) =>
    acceptAndSend(c, 'email_verification', c.req.valid('json').email)
  )
  .post('/email/verify', endpoint({ body: VerifyEmailBody }), async (c) => {
    const user = await c.var.services.recovery.verifyEmail(c.req.valid('json').token)
    recordEvent(c, { type: 'email_verified', userId: user.id })
    return c.json({ user: presentUser(user) }, 200)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const recoveryDocs = {
  'POST /auth/password/forgot': {
    summary: 'Mail a password reset link (the same 202 whether or not the account exists)',
    tag: 'auth',
    success: { status: 202, description: 'Accepted', body: AcceptedResponse },
  },
  'POST /auth/password/reset': {
    summary: 'Set a new password with a reset token; ends every session',
    tag: 'auth',
    success: { status: 204, description: 'The password is set' },
    errors: ['invalid_one_time_token', 'service_unavailable'],
  },
  'POST /auth/email/verification': {
    summary: 'Mail an email verification link (the same 202 for every address)',
    tag: 'auth',
    success: { status: 202, description: 'Accepted', body: AcceptedResponse },
  },
  'POST /auth/email/verify': {
    summary: 'Mark the address verified with a verification token',
    tag: 'auth',
    success: { status: 200, description: 'The verified user', body: UserResponse },
    errors: ['invalid_one_time_token', 'service_unavailable'],
  },
} satisfies RouteDocs
