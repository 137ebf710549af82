/** Email verification: the link, `email_verified` on the user, and REQUIRE_EMAIL_VERIFICATION. */
import { createExecutionContext, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { app } from '../src/index'
import { loginUser, registerUser, uniqueEmail, PASSWORD } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import {
  OUTBOX_ENV,
  askVerification,
  linkToken,
  mailApi,
  messagesTo,
  resetPassword,
  resetTokenFor,
  verificationTokenFor,
  verifyEmail,
} from './helpers/recovery'
import { api, buildRequest, expectError } from './helpers/requests'
import { Barrier, d1PausingAfterRead } from './helpers/storage-faults'

const REQUIRED = { REQUIRE_EMAIL_VERIFICATION: 'true' }

const registerWithMail = (email: string, overrides: Record<string, unknown> = {}) =>
  mailApi('/auth/register', { json: { email, password: PASSWORD } }, overrides)

describe('POST /auth/email/verification and /auth/email/verify', () => {
  it('verifies the address: 200 with email_verified true, and GET /me shows it', async () => {
    const account = await registerUser()
    expect(account.tokens.user.email_verified).toBe(false)
    const token = await verificationTokenFor(account.email)

    const res = await verifyEmail(token)

    expect(res.status).toBe(200)
    const body = (await res.json()) as { user: Record<string, unknown> }
    expect(body.user).toMatchObject({
      id: account.userId,
      email: account.email,
      email_verified: true,
    })
    const me = await api('/me', { token: account.accessToken })
    expect(((await me.json()) as { user: { email_verified: boolean } }).user.email_verified).toBe(
      true
    )
  })

  it('accepts a verification token once', async () => {
    const account = await registerUser()
    const token = await verificationTokenFor(account.email)
    expect((await verifyEmail(token)).status).toBe(200)

    await expectError(await verifyEmail(token), 400, 'invalid_one_time_token')
  })

  it('lets exactly one of two concurrent uses of a verification token succeed', async () => {
    const account = await registerUser()
    const token = await verificationTokenFor(account.email)
    const bothRead = Barrier.releasedWhenFull(2)
    const db = d1PausingAfterRead(env.DB, 'one_time_tokens', () => bothRead.arrive())
    const attempt = () =>
      app.fetch(
        buildRequest('/auth/email/verify', { json: { token } }),
        { ...env, ...OUTBOX_ENV, DB: db },
        createExecutionContext()
      )

    const answers = await Promise.all([attempt(), attempt()])

    expect(bothRead.arrived).toBe(2)
    expect(answers.map((res) => res.status).sort()).toEqual([200, 400])
  })

  it('expires a verification token after 24 hours', async () => {
    const start = pinClock()
    const account = await registerUser()
    const early = await verificationTokenFor(account.email)
    const late = await verificationTokenFor(account.email)

    setClock(start + 24 * 60 * 60 * 1000 - 1000)
    expect((await verifyEmail(early)).status).toBe(200)
    setClock(start + 24 * 60 * 60 * 1000)
    await expectError(await verifyEmail(late), 400, 'invalid_one_time_token')
  })

  it('sends nothing to an address that is already verified, and still answers 202', async () => {
    const account = await registerUser()
    expect((await verifyEmail(await verificationTokenFor(account.email))).status).toBe(200)

    const res = await askVerification(account.email)

    expect(res.status).toBe(202)
    expect(await messagesTo(account.email)).toHaveLength(1)
  })

  it('does not accept a reset token as a verification token, nor the reverse', async () => {
    const account = await registerUser()
    const resetToken = await resetTokenFor(account.email)
    const verificationToken = await verificationTokenFor(account.email)

    await expectError(await verifyEmail(resetToken), 400, 'invalid_one_time_token')
    await expectError(
      await resetPassword(verificationToken, 'a brand new passphrase'),
      400,
      'invalid_one_time_token'
    )
  })

  it('answers any string token it does not know with 400 invalid_one_time_token, a non-string with validation_failed', async () => {
    const account = await registerUser()
    await verificationTokenFor(account.email)
    for (const token of ['', 'A'.repeat(43), '\u0001', '\ud800', `${'A'.repeat(42)}\udfff`]) {
      await expectError(await verifyEmail(token), 400, 'invalid_one_time_token')
    }
    for (const token of [42, null, ['A'.repeat(43)]]) {
      await expectError(
        await mailApi('/auth/email/verify', { json: { token } }),
        400,
        'validation_failed'
      )
    }
    const me = await api('/me', { token: account.accessToken })
    expect(((await me.json()) as { user: { email_verified: boolean } }).user.email_verified).toBe(
      false
    )
  })

  it('counts verification and reset messages apart: verification requests never spend the reset budget', async () => {
    const account = await registerUser()
    for (let i = 0; i < 4; i++) await askVerification(account.email)
    expect(await messagesTo(account.email)).toHaveLength(3)

    // The owner can still recover: a reset link is sent, and it works.
    const token = await resetTokenFor(account.email)
    expect((await resetPassword(token, 'a new passphrase!')).status).toBe(204)
  })

  it('marks the address verified when a reset link was used (the mail reached its owner)', async () => {
    const account = await registerUser()
    expect(
      (await resetPassword(await resetTokenFor(account.email), 'a new passphrase!')).status
    ).toBe(204)
    const relogin = await loginUser(account.email, 'a new passphrase!')
    expect(relogin.tokens.user.email_verified).toBe(true)
  })

  it('mails a verification link at registration when mail is set up', async () => {
    const email = uniqueEmail()
    const res = await registerWithMail(email)
    expect(res.status).toBe(201)

    const [message, ...others] = await messagesTo(email)
    expect(others).toEqual([])
    expect(message.subject).toBe('Confirm your email address')
    expect((await verifyEmail(linkToken(message, 'verify'))).status).toBe(200)
  })
})

describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
  const login = (email: string, password: string) =>
    mailApi('/auth/login', { json: { email, password } }, REQUIRED)

  it('registers without tokens: 201 with the user only, no cookie, and a verification link', async () => {
    const email = uniqueEmail()
    const res = await registerWithMail(email, REQUIRED)

    expect(res.status).toBe(201)
    expect(res.headers.get('Set-Cookie')).toBeNull()
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['email_verification_required', 'user'])
    expect(body.user).toMatchObject({ email, email_verified: false })
    const sessions = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?1'
    )
      .bind(email)
      .first()
    expect(sessions).toEqual({ n: 0 })
    expect(await messagesTo(email)).toHaveLength(1)
  })

  it('refuses login of an unverified account with 403 email_not_verified, after the password check', async () => {
    const email = uniqueEmail()
    await registerWithMail(email, REQUIRED)

    await expectError(await login(email, 'not the password'), 401, 'invalid_credentials')
    await expectError(await login(email, PASSWORD), 403, 'email_not_verified')
  })

  it('lets the account sign in once the link was used', async () => {
    const email = uniqueEmail()
    await registerWithMail(email, REQUIRED)
    const [message] = await messagesTo(email)
    expect((await verifyEmail(linkToken(message, 'verify'))).status).toBe(200)

    const res = await login(email, PASSWORD)

    expect(res.status).toBe(200)
    const body = (await res.json()) as { user: { email_verified: boolean }; access_token: string }
    expect(body.user.email_verified).toBe(true)
    expect(body.access_token.split('.')).toHaveLength(3)
  })

  it('is 500 server_misconfigured at registration when no mail transport is set', async () => {
    const res = await mailApi(
      '/auth/register',
      { json: { email: uniqueEmail(), password: PASSWORD } },
      { ...REQUIRED, MAIL_TRANSPORT: '' }
    )
    await expectError(res, 500, 'server_misconfigured')
  })
})
