/**
 * Device tokens: a stranger's wrong guesses fill the account's shared failure count, and a device
 * that signed in before still signs in with the right password, in bearer mode (X-Device-Token)
 * and in cookie mode (the __Host-device cookie).
 */
import { createExecutionContext, createScheduledController, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'
import { PASSWORD, login, registerUser, uniqueEmail } from './helpers/accounts'
import type { TokenResponseBody } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import {
  COOKIE_MODE,
  CookieJar,
  DEVICE_COOKIE,
  browserApi,
  registerInCookieMode,
  setCookies,
} from './helpers/cookies'
import { resetPassword, resetTokenFor } from './helpers/recovery'
import { api, expectError } from './helpers/requests'
import { sha256Base64Url } from './helpers/tokens'

const WRONG = 'not the password at all'
const NEW_PASSWORD = 'a completely new passphrase'

const loginFrom = (deviceToken: string, email: string, password: string) =>
  api('/auth/login', { json: { email, password }, headers: { 'X-Device-Token': deviceToken } })

/** A stranger, with no device token, spends the account's whole shared budget. */
const lockOut = async (email: string) => {
  for (let i = 0; i < 10; i++) {
    await expectError(await login(email, WRONG), 401, 'invalid_credentials')
  }
  await expectError(await login(email, PASSWORD), 429, 'too_many_requests')
}

const deviceRows = (userId: string) =>
  env.DB.prepare('SELECT * FROM device_tokens WHERE user_id = ?1')
    .bind(userId)
    .all()
    .then((rows) => rows.results)

describe('device tokens in bearer mode', () => {
  it('register hands out a device token of 256 bits, stored only as its SHA-256 hash', async () => {
    const account = await registerUser()
    const token = account.tokens.device_token ?? ''
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const rows = await deviceRows(account.userId)
    expect(rows).toHaveLength(1)
    expect(rows[0].token_hash).toBe(await sha256Base64Url(token))
    expect(JSON.stringify(rows)).not.toContain(token)
  })

  it('a stranger locking the account out does not stop a known device signing in with the right password', async () => {
    const account = await registerUser()
    await lockOut(account.email)

    const res = await loginFrom(account.tokens.device_token!, account.email, PASSWORD)

    expect(res.status, await res.clone().text()).toBe(200)
    // A known device keeps its token: none is handed out again.
    expect((await res.json()) as TokenResponseBody).not.toHaveProperty('device_token')
  })

  it("counts a known device's failures on its own budget of 10 in 15 minutes", async () => {
    pinClock()
    const account = await registerUser()
    const device = account.tokens.device_token!
    await lockOut(account.email)

    for (let i = 0; i < 10; i++) {
      await expectError(await loginFrom(device, account.email, WRONG), 401, 'invalid_credentials')
    }
    const locked = await loginFrom(device, account.email, PASSWORD)
    await expectError(locked, 429, 'too_many_requests')
    expect(Number(locked.headers.get('Retry-After'))).toBe(15 * 60)

    // Another device of the owner's is not held up by the first one's failures.
    advanceClock(15 * 60)
    const other = await login(account.email, PASSWORD)
    expect(other.status).toBe(200)
    expect(((await other.json()) as TokenResponseBody).device_token).toMatch(/^[\w-]{43}$/)
  })

  it('a login from an unknown device hands out a new device token that then counts as known', async () => {
    const account = await registerUser()
    const res = await login(account.email, PASSWORD)
    const second = ((await res.json()) as TokenResponseBody).device_token!
    expect(second).not.toBe(account.tokens.device_token)
    await lockOut(account.email)

    expect((await loginFrom(second, account.email, PASSWORD)).status).toBe(200)
  })

  it("another account's device token, a forged one or a 64 KiB one counts on the shared budget", async () => {
    const owner = await registerUser()
    const other = await registerUser()
    await lockOut(owner.email)

    for (const token of [other.tokens.device_token!, 'A'.repeat(43), 'x'.repeat(64 * 1024)]) {
      await expectError(await loginFrom(token, owner.email, PASSWORD), 429, 'too_many_requests')
    }
  })

  it('an unknown email with a device token gets the same 401 as a wrong password', async () => {
    const account = await registerUser()
    const body = await expectError(
      await loginFrom(account.tokens.device_token!, uniqueEmail(), PASSWORD),
      401,
      'invalid_credentials'
    )
    expect(body.message).toBe(
      (await expectError(await login(account.email, WRONG), 401, 'invalid_credentials')).message
    )
  })

  it('dies with a password change', async () => {
    const account = await registerUser()
    const changed = await api('/auth/password', {
      token: account.accessToken,
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    })
    expect(changed.status).toBe(204)
    await lockOut(account.email)

    await expectError(
      await loginFrom(account.tokens.device_token!, account.email, NEW_PASSWORD),
      429,
      'too_many_requests'
    )
  })

  it('dies with a password reset', async () => {
    const account = await registerUser()
    const token = await resetTokenFor(account.email)
    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)
    // The reset cleared the shared count; a stranger fills it again.
    for (let i = 0; i < 10; i++) await login(account.email, WRONG)

    await expectError(
      await loginFrom(account.tokens.device_token!, account.email, NEW_PASSWORD),
      429,
      'too_many_requests'
    )
  })

  it('goes with the account, and the cron removes ended devices', async () => {
    const deleted = await registerUser()
    const res = await api('/me', {
      method: 'DELETE',
      token: deleted.accessToken,
      json: { password: PASSWORD },
    })
    expect(res.status).toBe(204)
    expect(await deviceRows(deleted.userId)).toEqual([])

    const changed = await registerUser()
    await api('/auth/password', {
      token: changed.accessToken,
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    })
    const kept = await registerUser()
    await worker.scheduled(createScheduledController(), env, createExecutionContext())
    expect(await deviceRows(changed.userId)).toEqual([])
    expect(await deviceRows(kept.userId)).toHaveLength(1)
  })
})

describe('device tokens in cookie mode', () => {
  it('register sets __Host-device: HttpOnly, Secure, Path=/, SameSite=Strict, no Domain, a year', async () => {
    const res = await browserApi(new CookieJar(), '/auth/register', {
      json: { email: uniqueEmail(), password: PASSWORD },
      headers: COOKIE_MODE,
    })
    expect(res.status).toBe(201)
    expect(await res.json()).not.toHaveProperty('device_token')
    const cookie = setCookies(res).get(DEVICE_COOKIE)!
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(cookie.attributes).toMatchObject({
      path: '/',
      httponly: '',
      secure: '',
      samesite: 'Strict',
      'max-age': String(365 * 86_400),
    })
    expect(cookie.attributes).not.toHaveProperty('domain')
  })

  it('a browser holding the device cookie from register gets 401, not 429, for its first wrong password', async () => {
    const { jar, email } = await registerInCookieMode()
    expect(jar.device).toBeDefined()

    const res = await browserApi(jar, '/auth/login', {
      json: { email, password: WRONG },
      headers: COOKIE_MODE,
    })

    await expectError(res, 401, 'invalid_credentials')
  })

  it('a stranger locking the account out does not stop the browser that registered it', async () => {
    const { jar, email } = await registerInCookieMode()
    await lockOut(email)

    const wrong = await browserApi(jar, '/auth/login', {
      json: { email, password: WRONG },
      headers: COOKIE_MODE,
    })
    await expectError(wrong, 401, 'invalid_credentials')
    const right = await browserApi(jar, '/auth/login', {
      json: { email, password: PASSWORD },
      headers: COOKIE_MODE,
    })
    expect(right.status, await right.clone().text()).toBe(200)
    // Known: the cookie it has stays, none is set again.
    expect(setCookies(right).has(DEVICE_COOKIE)).toBe(false)
  })

  it('the device cookie alone authenticates nothing and is no cookie-mode credential', async () => {
    const { jar } = await registerInCookieMode()
    const deviceOnly = new CookieJar()
    deviceOnly.cookies.set(DEVICE_COOKIE, jar.device!)

    await expectError(await browserApi(deviceOnly, '/me'), 401, 'missing_token')
    // No origin check either: it does not make a request cookie-authenticated.
    const res = await api('/auth/logout-all', {
      method: 'POST',
      headers: { Cookie: `${DEVICE_COOKIE}=${jar.device}`, Origin: 'https://evil.example' },
    })
    await expectError(res, 401, 'missing_token')
  })
})
