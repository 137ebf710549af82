/** /auth/password/forgot, /auth/password/reset, /auth/email/verification, /auth/email/verify. */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { resetPassword, sendAccountLink, verifyEmail } from '../auth/recovery'
import { readConfig } from '../config'
import type { AppEnv } from '../env'
import { presentUser } from '../http/present'
import { EmailOnlyBody, ResetPasswordBody, VerifyEmailBody } from '../http/schemas'
import { createMailer } from '../mail/mailer'
import type { AccountLinkPurpose } from '../mail/message'
import { jsonBody } from '../middleware/json-body'

/**
 * The same 202 for every address: nothing about the account is read before answering, and the
 * lookup, the token and the message all happen after the response.
 */
const acceptAndSend = (c: Context<AppEnv>, purpose: AccountLinkPurpose, email: string) => {
  const mailer = createMailer(c.env, readConfig(c.env).mail)
  c.executionCtx.waitUntil(sendAccountLink(c.env, mailer, purpose, email))
  return c.json({ status: 'accepted' as const }, 202)
}

export const recoveryRoutes = new Hono<AppEnv>()
  .post('/password/forgot', jsonBody(EmailOnlyBody), (c) =>
    acceptAndSend(c, 'password_reset', c.req.valid('json').email)
  )
  .post('/password/reset', jsonBody(ResetPasswordBody), async (c) => {
    const { token, new_password: newPassword } = c.req.valid('json')
    await resetPassword(c.env, readConfig(c.env), token, newPassword)
    return c.body(null, 204)
  })
  .post('/email/verification', jsonBody(EmailOnlyBody), (c) =>
    acceptAndSend(c, 'email_verification', c.req.valid('json').email)
  )
  .post('/email/verify', jsonBody(VerifyEmailBody), async (c) => {
    const user = await verifyEmail(c.env, c.req.valid('json').token)
    return c.json({ user: presentUser(user) }, 200)
  })
