/** POST /auth/password/forgot and /auth/password/reset: one-time links by mail, redeemed once. */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import worker, { app } from '../src/index'
import { loginUser, registerUser, uniqueEmail, login } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import {
  APP_URL,
  OUTBOX_ENV,
  forgot,
  linkToken,
  mailApi,
  messagesTo,
  resetPassword,
  resetTokenFor,
  verificationTokenFor,
} from './helpers/recovery'
import { api, apiWithEnv, buildRequest, expectError } from './helpers/requests'
import {
  expectSessionAlive,
  expectSessionEnded,
  refreshKeyOf,
  refreshRecords,
  tokensOf,
} from './helpers/sessions'
import { Barrier, FaultyStorage, d1PausingAfterRead } from './helpers/storage-faults'
import { sha256Base64Url } from './helpers/tokens'

const NEW_PASSWORD = 'a brand new passphrase'

describe('POST /auth/password/forgot', () => {
  it('answers 202 and mails a reset link to APP_URL with a fragment token', async () => {
    const account = await registerUser()

    const res = await forgot(account.email)

    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ status: 'accepted' })
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const [message, ...others] = await messagesTo(account.email)
    expect(others).toHaveLength(0)
    expect(message.subject).toBe('Reset your password')
    const token = linkToken(message, 'reset')
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(message.html).toContain(`href="${APP_URL}/#reset=${token}"`)
  })

  it('stores only the hash of the token, never the token itself', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)

    const rows = await env.DB.prepare('SELECT * FROM one_time_tokens WHERE user_id = ?1')
      .bind(account.userId)
      .all()
    expect(rows.results).toHaveLength(1)
    expect(rows.results[0].token_hash).toBe(await sha256Base64Url(token))
    expect(JSON.stringify(rows.results)).not.toContain(token)
  })

  it('puts nothing in the message but the link and the address (no nickname)', async () => {
    const account = await registerUser({ nickname: 'Click evil.example now' })
    await resetTokenFor(account.email)

    const [message] = await messagesTo(account.email)
    for (const body of [message.text, message.html]) {
      expect(body).toContain(account.email)
      expect(body).not.toContain('evil.example')
      const urls = body.match(/https?:\/\/[^\s"<]+/g) ?? []
      expect(urls.every((url) => url.startsWith(`${APP_URL}/#reset=`))).toBe(true)
    }
  })

  it('sends nothing for an unknown email and still answers 202', async () => {
    const email = uniqueEmail()
    const res = await forgot(email)
    expect(res.status).toBe(202)
    expect(await messagesTo(email)).toEqual([])
  })

  it('sends at most 3 messages per account in 30 minutes, and again once the window has passed', async () => {
    const start = pinClock()
    const account = await registerUser()
    for (let i = 0; i < 5; i++) expect((await forgot(account.email)).status).toBe(202)
    expect(await messagesTo(account.email)).toHaveLength(3)

    setClock(start + 30 * 60 * 1000 + 1000)
    expect((await forgot(account.email)).status).toBe(202)
    expect(await messagesTo(account.email)).toHaveLength(4)
  })

  it('never leaves the owner without a working link: three forgot requests, the fourth refused, the earliest link still resets', async () => {
    const start = pinClock()
    const account = await registerUser()
    // A stranger spends the budget as fast as they can; the owner asks later in the window.
    for (let i = 0; i < 3; i++) expect((await forgot(account.email)).status).toBe(202)
    setClock(start + 29 * 60 * 1000)
    expect((await forgot(account.email)).status).toBe(202)

    const messages = await messagesTo(account.email)
    expect(messages).toHaveLength(3)
    const earliest = linkToken(messages[messages.length - 1], 'reset')
    // A newer link did not kill the older one, and the refusal came while it still works.
    expect((await resetPassword(earliest, NEW_PASSWORD)).status).toBe(204)
    await loginUser(account.email, NEW_PASSWORD)
  })

  it('sends a new link once the links it counted have expired, not an hour after them', async () => {
    const start = pinClock()
    const account = await registerUser()
    for (let i = 0; i < 3; i++) await forgot(account.email)
    setClock(start + 30 * 60 * 1000 + 1000)
    for (const message of await messagesTo(account.email)) {
      await expectError(
        await resetPassword(linkToken(message, 'reset'), NEW_PASSWORD),
        400,
        'invalid_one_time_token'
      )
    }

    const fresh = await resetTokenFor(account.email)

    expect((await resetPassword(fresh, NEW_PASSWORD)).status).toBe(204)
  })

  it('counts the limit atomically: 8 requests at once send exactly 3 messages', async () => {
    const account = await registerUser()
    const answers = await Promise.all(Array.from({ length: 8 }, () => forgot(account.email)))
    expect(answers.map((res) => res.status)).toEqual(Array(8).fill(202))
    expect(await messagesTo(account.email)).toHaveLength(3)
  })

  it('with mail off (no MAIL_TRANSPORT, as deployed by default) answers 202, sends nothing and says so in the log', async () => {
    const account = await registerUser()
    const warnings = vi.spyOn(console, 'warn')

    const res = await apiWithEnv({}, '/auth/password/forgot', { json: { email: account.email } })

    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ status: 'accepted' })
    const rows = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM one_time_tokens WHERE user_id = ?1'
    )
      .bind(account.userId)
      .first()
    expect(rows).toEqual({ n: 0 })
    const lines = warnings.mock.calls.map((call) => String(call[0]))
    expect(lines.some((line) => line.includes('mail is off'))).toBe(true)
    expect(lines.join('\n')).not.toContain(account.email)
  })

  it('is 500 server_misconfigured for every address alike when a transport lacks APP_URL', async () => {
    const account = await registerUser()
    for (const email of [account.email, uniqueEmail()]) {
      await expectError(
        await apiWithEnv({ MAIL_TRANSPORT: 'outbox' }, '/auth/password/forgot', {
          json: { email },
        }),
        500,
        'server_misconfigured'
      )
    }
  })

  it('is 400 validation_failed for a malformed email, 415 for another media type', async () => {
    await expectError(await forgot('not an email'), 400, 'validation_failed')
    const res = await app.fetch(
      buildRequest('/auth/password/forgot', { body: 'email=a@b.co' }),
      { ...env, ...OUTBOX_ENV },
      createExecutionContext()
    )
    await expectError(res, 415, 'unsupported_media_type')
  })
})

describe('POST /auth/password/reset', () => {
  it('sets the new password: 204, the new one signs in and the old one no longer does', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)

    const res = await resetPassword(token, NEW_PASSWORD)

    expect(res.status, await res.clone().text()).toBe(204)
    expect(await res.text()).toBe('')
    await expectError(await login(account.email, account.password), 401, 'invalid_credentials')
    await loginUser(account.email, NEW_PASSWORD)
  })

  it('ends every session of the account', async () => {
    const account = await registerUser()
    const second = await loginUser(account.email, account.password)
    const token = await resetTokenFor(account.email)

    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)

    await expectSessionEnded(tokensOf(account.tokens))
    await expectSessionEnded(tokensOf(second.tokens))
    // A session begun after the reset is fine.
    await expectSessionAlive(tokensOf((await loginUser(account.email, NEW_PASSWORD)).tokens))
  })

  it('drops the KV records of the refresh tokens it made useless', async () => {
    const account = await registerUser()
    const second = await loginUser(account.email, account.password)
    const keys = await Promise.all(
      [account.refreshToken, second.refreshToken].map((token) => refreshKeyOf(token))
    )
    for (const key of keys) expect((await refreshRecords()).has(key)).toBe(true)

    expect((await resetPassword(await resetTokenFor(account.email), NEW_PASSWORD)).status).toBe(204)

    const after = await refreshRecords()
    for (const key of keys) expect(after.has(key)).toBe(false)
  })

  it('clears the failed-login count, so a locked-out owner can sign in at once', async () => {
    const account = await registerUser()
    for (let i = 0; i < 10; i++) await login(account.email, 'a wrong guess!')
    await expectError(await login(account.email, account.password), 429, 'too_many_requests')
    const token = await resetTokenFor(account.email)

    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)

    const counter = await env.DB.prepare('SELECT * FROM login_failures WHERE email = ?1')
      .bind(account.email)
      .first()
    expect(counter).toBeNull()
    await loginUser(account.email, NEW_PASSWORD)
  })

  it('accepts a token once: the second use is 400 invalid_one_time_token', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)
    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)

    await expectError(
      await resetPassword(token, 'yet another passphrase'),
      400,
      'invalid_one_time_token'
    )
    await loginUser(account.email, NEW_PASSWORD)
  })

  it('lets exactly one of two concurrent redemptions of the same token succeed', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)
    // Both requests read the live token before either writes: the race the UPDATE must decide.
    const bothRead = Barrier.releasedWhenFull(2)
    const db = d1PausingAfterRead(env.DB, 'one_time_tokens', () => bothRead.arrive())
    const attempt = (password: string) =>
      app.fetch(
        buildRequest('/auth/password/reset', { json: { token, new_password: password } }),
        { ...env, ...OUTBOX_ENV, DB: db },
        createExecutionContext()
      )

    const answers = await Promise.all([attempt('first racer password'), attempt('second racer pw')])

    expect(bothRead.arrived).toBe(2)
    expect(answers.map((res) => res.status).sort()).toEqual([204, 400])
    const loser = answers.find((res) => res.status === 400)
    if (loser) await expectError(loser, 400, 'invalid_one_time_token')
    const winner = answers[0].status === 204 ? 'first racer password' : 'second racer pw'
    const loserPassword =
      winner === 'first racer password' ? 'second racer pw' : 'first racer password'
    await loginUser(account.email, winner)
    await expectError(await login(account.email, loserPassword), 401, 'invalid_credentials')
  })

  it('expires a reset token after 30 minutes', async () => {
    const start = pinClock()
    const account = await registerUser()
    const token = await resetTokenFor(account.email)

    setClock(start + 30 * 60 * 1000)
    await expectError(await resetPassword(token, NEW_PASSWORD), 400, 'invalid_one_time_token')
    await loginUser(account.email, account.password)
  })

  it('still accepts a reset token a second before its 30 minutes are up', async () => {
    const start = pinClock()
    const account = await registerUser()
    const token = await resetTokenFor(account.email)

    setClock(start + 30 * 60 * 1000 - 1000)
    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)
  })

  it('refuses a token issued before a password change made with POST /auth/password', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)
    const change = await api('/auth/password', {
      json: { current_password: account.password, new_password: 'changed by the owner' },
      token: account.accessToken,
    })
    expect(change.status).toBe(204)

    await expectError(await resetPassword(token, NEW_PASSWORD), 400, 'invalid_one_time_token')
    await loginUser(account.email, 'changed by the owner')
  })

  it('refuses an older reset token once another one has reset the password', async () => {
    const account = await registerUser()
    const older = await resetTokenFor(account.email)
    const newer = await resetTokenFor(account.email)
    expect((await resetPassword(newer, NEW_PASSWORD)).status).toBe(204)

    await expectError(
      await resetPassword(older, 'sneaky other pass'),
      400,
      'invalid_one_time_token'
    )
    await loginUser(account.email, NEW_PASSWORD)
  })

  it('answers unknown, malformed and wrong-purpose tokens alike: 400 invalid_one_time_token', async () => {
    const account = await registerUser()
    await resetTokenFor(account.email) // a live reset token exists, and is not what is sent
    const verificationToken = await verificationTokenFor(account.email)
    const unknown = 'A'.repeat(43)
    const malformed = ['', 'short', `${unknown}A`, ' '.repeat(43), '\u0001', '\u0000'.repeat(43)]
    const notUnicode = ['\ud800', `${unknown.slice(1)}\udc00`]
    for (const token of [unknown, verificationToken, ...malformed, ...notUnicode]) {
      await expectError(await resetPassword(token, NEW_PASSWORD), 400, 'invalid_one_time_token')
    }
    await loginUser(account.email, account.password)
  })

  it('is 400 validation_failed for a bad new password, and the token still works after', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)

    const res = await resetPassword(token, 'short')
    const body = await expectError(res, 400, 'validation_failed')
    expect(body.details).toHaveProperty('new_password')
    await expectError(
      await resetWithBody({ token: 42, new_password: NEW_PASSWORD }),
      400,
      'validation_failed'
    )

    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)
  })

  it('answers 503 and changes nothing when D1 fails while redeeming', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)
    // The token lookup is call 1; the transaction that redeems it is call 2.
    const faulty = new FaultyStorage({ failAt: 2, mode: 'before' })
    Object.assign(faulty.env, OUTBOX_ENV)

    const res = await faulty.fetch('/auth/password/reset', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token, new_password: NEW_PASSWORD }),
    })

    expect(faulty.failedCall).toBe('d1.batch')
    await expectError(res, 503, 'service_unavailable')
    await expectSessionAlive(tokensOf(account.tokens))
    await loginUser(account.email, account.password)
    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)
  })
})

const resetWithBody = (json: unknown) =>
  app.fetch(
    buildRequest('/auth/password/reset', { json }),
    { ...env, ...OUTBOX_ENV },
    createExecutionContext()
  )

describe('the 202 reveals nothing', () => {
  const observable = async (res: Response) => ({
    status: res.status,
    headers: [...res.headers].filter(([name]) => name !== 'x-request-id'),
    body: await res.text(),
  })

  it('is the same for unknown, known, verified and throttled emails, on both routes', async () => {
    const known = await registerUser()
    const verified = await registerUser()
    await env.DB.prepare('UPDATE users SET email_verified_at = ?2 WHERE id = ?1')
      .bind(verified.userId, new Date().toISOString())
      .run()
    const throttled = await registerUser()
    for (let i = 0; i < 3; i++) await forgot(throttled.email)
    const emails = [uniqueEmail(), known.email, verified.email, throttled.email]

    for (const path of ['/auth/password/forgot', '/auth/email/verification']) {
      const answers = []
      for (const email of emails) {
        answers.push(await observable(await mailApi(path, { json: { email } })))
      }
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0])
      expect(answers[0].status).toBe(202)
    }
  })

  it('answers before the account is even looked up', async () => {
    const account = await registerUser()
    let releaseLookup: () => void = () => {}
    const lookupHeld = new Promise<void>((resolve) => (releaseLookup = resolve))
    let lookups = 0
    const db = d1PausingAfterRead(env.DB, 'users', async () => {
      lookups++
      await lookupHeld
    })
    const ctx = createExecutionContext()

    const res = await app.fetch(
      buildRequest('/auth/password/forgot', { json: { email: account.email } }),
      { ...env, ...OUTBOX_ENV, DB: db },
      ctx
    )

    // The answer is out while the lookup of the account is still held.
    expect(res.status).toBe(202)
    expect(await messagesTo(account.email)).toEqual([])
    releaseLookup()
    await waitOnExecutionContext(ctx)
    expect(lookups).toBe(1)
    expect(await messagesTo(account.email)).toHaveLength(1)
  })

  it('takes about the same time for the four kinds of email (medians within 40 ms)', async () => {
    const known = await registerUser()
    const verified = await registerUser()
    await env.DB.prepare('UPDATE users SET email_verified_at = ?2 WHERE id = ?1')
      .bind(verified.userId, new Date().toISOString())
      .run()
    const throttled = await registerUser()
    for (let i = 0; i < 3; i++) await forgot(throttled.email)
    const kinds = {
      unknown: uniqueEmail(),
      known: known.email,
      verified: verified.email,
      throttled: throttled.email,
    }

    const timeToAnswer = async (email: string): Promise<number> => {
      const ctx = createExecutionContext()
      const started = performance.now()
      const res = await app.fetch(
        buildRequest('/auth/email/verification', { json: { email } }),
        { ...env, ...OUTBOX_ENV },
        ctx
      )
      const elapsed = performance.now() - started
      expect(res.status).toBe(202)
      await waitOnExecutionContext(ctx)
      return elapsed
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
    const medians: number[] = []
    for (const email of Object.values(kinds)) {
      const samples: number[] = []
      for (let i = 0; i < 7; i++) samples.push(await timeToAnswer(email))
      medians.push(median(samples))
    }
    expect(Math.max(...medians) - Math.min(...medians)).toBeLessThan(40)
  })
})

describe('the daily cron and one-time tokens', () => {
  const tokenRows = async (userId: string) =>
    (
      await env.DB.prepare('SELECT COUNT(*) AS n FROM one_time_tokens WHERE user_id = ?1')
        .bind(userId)
        .first<{ n: number }>()
    )?.n

  it('prunes tokens once expired and out of the message count, and keeps the others', async () => {
    const start = pinClock()
    const old = await registerUser()
    await resetTokenFor(old.email)
    setClock(start + 40 * 60 * 1000)
    const recent = await registerUser()
    await resetTokenFor(recent.email)
    setClock(start + 61 * 60 * 1000)

    await worker.scheduled(createScheduledController(), env, createExecutionContext())

    // Issued 61 min ago and expired: gone. Issued 21 min ago: still live, and counted.
    expect(await tokenRows(old.userId)).toBe(0)
    expect(await tokenRows(recent.userId)).toBe(1)
  })
})
