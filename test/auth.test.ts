/** Registration, login and refresh rotation, as a client observes them. */
import { describe, expect, it } from 'vitest'
import { PASSWORD, expectTokenResponse, login, registerUser, uniqueEmail } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { api, expectError } from './helpers/requests'
import { refresh } from './helpers/sessions'

const register = (body: Record<string, unknown>) => api('/auth/register', { json: body })

describe('POST /auth/register', () => {
  it('returns 201 with a token response and the no-store and nosniff headers', async () => {
    const email = uniqueEmail()
    const body = await expectTokenResponse(
      await register({ email, password: PASSWORD, nickname: 'Ada' }),
      201
    )
    expect(body.refresh_expires_in).toBe(2_592_000)
    expect(body.user.email).toBe(email)
    expect(body.user.nickname).toBe('Ada')
  })

  it('returns a null nickname when none is given', async () => {
    const body = await expectTokenResponse(
      await register({ email: uniqueEmail(), password: PASSWORD }),
      201
    )
    expect(body.user.nickname).toBeNull()
  })

  it('issues tokens that work at once', async () => {
    const body = await expectTokenResponse(
      await register({ email: uniqueEmail(), password: PASSWORD }),
      201
    )
    const me = await api('/me', { token: body.access_token })
    expect(me.status).toBe(200)
    expect((await me.json<{ user: unknown }>()).user).toEqual(body.user)
  })

  it('stores the email trimmed and in lower case, and returns it so', async () => {
    const email = uniqueEmail()
    const body = await expectTokenResponse(
      await register({ email: `  ${email.toUpperCase()}\t`, password: PASSWORD }),
      201
    )
    expect(body.user.email).toBe(email)
    const me = await api('/me', { token: body.access_token })
    expect((await me.json<{ user: { email: string } }>()).user.email).toBe(email)
  })

  it('rejects an email already taken with 409 email_taken', async () => {
    const { email } = await registerUser()
    await expectError(await register({ email, password: PASSWORD }), 409, 'email_taken')
  })

  it('rejects the same email in another case or with spaces around it with 409 email_taken', async () => {
    const { email } = await registerUser()
    await expectError(
      await register({ email: email.toUpperCase(), password: PASSWORD }),
      409,
      'email_taken'
    )
    await expectError(
      await register({ email: ` ${email} `, password: PASSWORD }),
      409,
      'email_taken'
    )
  })

  it('accepts an email of exactly 254 characters and rejects one of 255', async () => {
    const domain = `@${uniqueEmail().split('@')[0]}.example.com`
    const at254 = 'a'.repeat(254 - domain.length) + domain
    expect(at254).toHaveLength(254)
    const body = await expectTokenResponse(
      await register({ email: at254, password: PASSWORD }),
      201
    )
    expect(body.user.email).toBe(at254)

    const at255 = `b${at254}`
    const error = await expectError(
      await register({ email: at255, password: PASSWORD }),
      400,
      'validation_failed'
    )
    expect(error.details).toHaveProperty('email')
  })

  it.each([
    ['no at sign', 'ada.example.com'],
    ['no domain', 'ada@'],
    ['no local part', '@example.com'],
    ['no dot in the domain', 'ada@localhost'],
    ['a space inside', 'ada lovelace@example.com'],
    ['two at signs', 'ada@@example.com'],
    ['an empty string', ''],
    ['only spaces', '   '],
  ])('rejects an email with %s with 400 validation_failed', async (_, email) => {
    const error = await expectError(
      await register({ email, password: PASSWORD }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['email'])
  })

  it('rejects a missing email and a missing password, naming both fields', async () => {
    const error = await expectError(await register({}), 400, 'validation_failed')
    expect(Object.keys(error.details ?? {}).sort()).toEqual(['email', 'password'])
  })

  it('trims the nickname and accepts 1 and 50 characters after trimming', async () => {
    const one = await expectTokenResponse(
      await register({ email: uniqueEmail(), password: PASSWORD, nickname: '  A  ' }),
      201
    )
    expect(one.user.nickname).toBe('A')
    const fifty = 'n'.repeat(50)
    const full = await expectTokenResponse(
      await register({ email: uniqueEmail(), password: PASSWORD, nickname: ` ${fifty} ` }),
      201
    )
    expect(full.user.nickname).toBe(fifty)
  })

  it.each([
    ['empty', ''],
    ['only spaces', '    '],
    ['51 characters', 'n'.repeat(51)],
    ['a number', 42],
    ['null', null],
  ])('rejects a nickname that is %s with 400 validation_failed', async (_, nickname) => {
    const email = uniqueEmail()
    const error = await expectError(
      await register({ email, password: PASSWORD, nickname }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['nickname'])
    // Nothing was created: the same email can still register.
    await expectTokenResponse(await register({ email, password: PASSWORD }), 201)
  })

  it('counts password length in code points: 7 astral characters are too few, 8 are enough', async () => {
    // Each emoji is one code point but two UTF-16 units, so a length check in units would pass 7.
    const seven = '😀'.repeat(7)
    expect(seven.length).toBe(14)
    const error = await expectError(
      await register({ email: uniqueEmail(), password: seven }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['password'])

    const email = uniqueEmail()
    await expectTokenResponse(await register({ email, password: '😀'.repeat(8) }), 201)
    await expectTokenResponse(await login(email, '😀'.repeat(8)), 200)
  })

  it('counts password length in code points: 256 astral characters are allowed, 257 are not', async () => {
    const email = uniqueEmail()
    await expectTokenResponse(await register({ email, password: '😀'.repeat(256) }), 201)
    await expectTokenResponse(await login(email, '😀'.repeat(256)), 200)

    const error = await expectError(
      await register({ email: uniqueEmail(), password: '😀'.repeat(257) }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['password'])
  })

  it('accepts passwords of exactly 8 and 256 plain characters and refuses 7 and 257', async () => {
    await expectTokenResponse(
      await register({ email: uniqueEmail(), password: 'p'.repeat(8) }),
      201
    )
    await expectTokenResponse(
      await register({ email: uniqueEmail(), password: 'p'.repeat(256) }),
      201
    )
    await expectError(
      await register({ email: uniqueEmail(), password: 'p'.repeat(7) }),
      400,
      'validation_failed'
    )
    await expectError(
      await register({ email: uniqueEmail(), password: 'p'.repeat(257) }),
      400,
      'validation_failed'
    )
  })
})

describe('POST /auth/login', () => {
  it('returns 200 with a token response for the right password', async () => {
    const account = await registerUser({ nickname: 'Grace' })
    const body = await expectTokenResponse(await login(account.email, account.password), 200)
    expect(body.user).toEqual(account.tokens.user)
    expect(body.refresh_token).not.toBe(account.refreshToken)
  })

  it('finds the account whatever the case and surrounding spaces of the email', async () => {
    const account = await registerUser()
    const body = await expectTokenResponse(
      await login(`  ${account.email.toUpperCase()} `, account.password),
      200
    )
    expect(body.user.id).toBe(account.userId)
  })

  it('answers an unknown email and a wrong password with the same 401 invalid_credentials', async () => {
    const account = await registerUser()
    const wrongPassword = await login(account.email, 'not the password at all')
    const unknownEmail = await login(uniqueEmail(), account.password)
    const first = await expectError(wrongPassword, 401, 'invalid_credentials')
    const second = await expectError(unknownEmail, 401, 'invalid_credentials')
    expect(second).toEqual(first)
    expect(wrongPassword.headers.get('WWW-Authenticate')).toBe(
      unknownEmail.headers.get('WWW-Authenticate')
    )
  })

  it('matches a password typed in another Unicode form (NFKC): ligature at register, letters at login', async () => {
    // U+FB01 LATIN SMALL LIGATURE FI normalizes to "fi" under NFKC.
    const account = await registerUser({ password: 'ﬁsh and chips on friday' })
    await expectTokenResponse(await login(account.email, 'fish and chips on friday'), 200)
  })

  it('matches a password typed in another Unicode form (NFKC): letters at register, full width at login', async () => {
    const account = await registerUser({ password: 'password123' })
    await expectTokenResponse(await login(account.email, 'ｐａｓｓｗｏｒｄ１２３'), 200)
  })

  it('still tells different passwords apart after normalization', async () => {
    const account = await registerUser({ password: 'ﬁsh and chips on friday' })
    await expectError(
      await login(account.email, 'flsh and chips on friday'),
      401,
      'invalid_credentials'
    )
  })
})

describe('POST /auth/refresh', () => {
  it('returns a new token pair for the same user and session', async () => {
    const account = await registerUser()
    const body = await expectTokenResponse(await refresh(account.refreshToken), 200)
    // Each rotation starts a full new lifetime.
    expect(body.refresh_expires_in).toBe(2_592_000)
    expect(body.user).toEqual(account.tokens.user)
    expect(body.refresh_token).not.toBe(account.refreshToken)
    expect(body.access_token).not.toBe(account.accessToken)
    expect((await api('/me', { token: body.access_token })).status).toBe(200)
    // The new refresh token can itself be rotated.
    await expectTokenResponse(await refresh(body.refresh_token), 200)
  })

  it('hands a racing duplicate of the rotated token the same successor within the grace window', async () => {
    const account = await registerUser()
    const first = await expectTokenResponse(await refresh(account.refreshToken), 200)
    const again = await expectTokenResponse(await refresh(account.refreshToken), 200)
    expect(again.refresh_token).toBe(first.refresh_token)
  })

  it('rejects a rotated token after the grace window with 401 invalid_refresh_token', async () => {
    const start = pinClock()
    const account = await registerUser()
    const successor = await expectTokenResponse(await refresh(account.refreshToken), 200)
    // Late in the window the old token still yields the same successor...
    setClock(start + 9_000)
    const late = await expectTokenResponse(await refresh(account.refreshToken), 200)
    expect(late.refresh_token).toBe(successor.refresh_token)
    // ...and one second later it is dead.
    setClock(start + 11_000)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
  })

  it.each([
    ['an empty string', ''],
    ['random text', 'not-a-refresh-token'],
    ['a well-formed token never issued', 'A'.repeat(43)],
    ['an access token', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
    ['a very long string', 'x'.repeat(500)],
  ])('rejects %s with 401 invalid_refresh_token', async (_, token) => {
    await expectError(await refresh(token), 401, 'invalid_refresh_token')
  })

  it('rejects a token that is not a string with 400 validation_failed', async () => {
    const error = await expectError(
      await api('/auth/refresh', { json: { refresh_token: 12345 } }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['refresh_token'])
  })

  it('rejects an access token sent as the refresh token', async () => {
    const account = await registerUser()
    await expectError(await refresh(account.accessToken), 401, 'invalid_refresh_token')
  })
})
