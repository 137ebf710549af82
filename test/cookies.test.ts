/** Cookie mode: HttpOnly cookies instead of tokens in the body, implicit refresh, and logout. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import {
  ACCESS_COOKIE,
  COOKIE_MODE,
  DEVICE_COOKIE,
  expectTokenCookiesCleared,
  CookieJar,
  SAME_ORIGIN,
  REFRESH_COOKIE,
  browserApi,
  registerInCookieMode,
  setCookies,
} from './helpers/cookies'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { d1FailingOn } from './helpers/storage-faults'
import { decodeJwt } from './helpers/tokens'

const ACCESS_TTL = Number(env.ACCESS_TOKEN_TTL)
const MARGIN = Number(env.ACCESS_REFRESH_MARGIN)
const GRACE_MS = Number(env.REFRESH_REUSE_GRACE) * 1000

describe('cookie mode on register, login and refresh', () => {
  it('POST /auth/register sets HttpOnly __Host- access, refresh and device cookies, the refresh one Strict', async () => {
    const email = uniqueEmail()
    const res = await browserApi(new CookieJar(), '/auth/register', {
      json: { email, password: PASSWORD, nickname: 'Ada' },
      headers: COOKIE_MODE,
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const cookies = setCookies(res)
    expect([...cookies.keys()].sort()).toEqual(
      [ACCESS_COOKIE, DEVICE_COOKIE, REFRESH_COOKIE].sort()
    )

    const access = cookies.get(ACCESS_COOKIE)!
    expect(decodeJwt(access.value).payload.token_use).toBe('access')
    expect(access.attributes).toMatchObject({
      path: '/',
      httponly: '',
      secure: '',
      samesite: 'Lax',
    })
    expect(access.attributes).not.toHaveProperty('domain')

    const refresh = cookies.get(REFRESH_COOKIE)!
    expect(refresh.value.length).toBeGreaterThanOrEqual(43)
    expect(refresh.attributes).toMatchObject({
      path: '/',
      httponly: '',
      secure: '',
      samesite: 'Strict',
    })
    expect(refresh.attributes).not.toHaveProperty('domain')
    expect(Number(refresh.attributes['max-age'])).toBe(Number(env.REFRESH_TOKEN_TTL))
  })

  it('POST /auth/register in cookie mode keeps the raw tokens out of the JSON body', async () => {
    const email = uniqueEmail()
    const res = await browserApi(new CookieJar(), '/auth/register', {
      json: { email, password: PASSWORD },
      headers: COOKIE_MODE,
    })
    const text = await res.text()
    const cookies = setCookies(res)
    expect(text).not.toContain(cookies.get(ACCESS_COOKIE)!.value)
    expect(text).not.toContain(cookies.get(REFRESH_COOKIE)!.value)
    const body = JSON.parse(text)
    expect(body).not.toHaveProperty('access_token')
    expect(body).not.toHaveProperty('refresh_token')
    expect(body).toMatchObject({
      user: { email },
      token_type: 'Bearer',
      expires_in: ACCESS_TTL,
      refresh_expires_in: Number(env.REFRESH_TOKEN_TTL),
      auth_mode: 'cookie',
    })
  })

  it('POST /auth/login in cookie mode sets both cookies and returns no tokens', async () => {
    const { email } = await registerInCookieMode()
    const jar = new CookieJar()
    const res = await browserApi(jar, '/auth/login', {
      json: { email, password: PASSWORD },
      headers: COOKIE_MODE,
    })
    expect(res.status).toBe(200)
    jar.absorb(res)
    expect(jar.access).toBeDefined()
    expect(jar.refresh).toBeDefined()
    const body = await res.json<Record<string, unknown>>()
    expect(body).not.toHaveProperty('access_token')
    expect(body).not.toHaveProperty('refresh_token')
    expect((await browserApi(jar, '/me')).status).toBe(200)
  })

  it('POST /auth/login without X-Auth-Mode answers bearer clients as before, with no cookie', async () => {
    const account = await registerUser()
    const res = await api('/auth/login', {
      json: { email: account.email, password: account.password },
    })
    expect(res.status).toBe(200)
    expect(res.headers.getSetCookie()).toEqual([])
    const body = await res.json<Record<string, unknown>>()
    expect(typeof body.access_token).toBe('string')
    expect(typeof body.refresh_token).toBe('string')
  })

  it('POST /auth/refresh in cookie mode reads the refresh cookie when the body is empty', async () => {
    const { jar } = await registerInCookieMode()
    const before = jar.clone()
    const res = await browserApi(jar, '/auth/refresh', { method: 'POST', headers: COOKIE_MODE })
    expect(res.status, await res.clone().text()).toBe(200)
    jar.absorb(res)
    expect(jar.refresh).not.toBe(before.refresh)
    expect(jar.access).not.toBe(before.access)
    const text = await res.text()
    expect(text).not.toContain(jar.refresh!)
    expect(text).not.toContain(jar.access!)
    expect((await browserApi(jar, '/me')).status).toBe(200)
  })

  it('POST /auth/refresh in cookie mode prefers a refresh_token sent in the body', async () => {
    const account = await registerUser()
    const jar = new CookieJar()
    const res = await browserApi(jar, '/auth/refresh', {
      json: { refresh_token: account.refreshToken },
      headers: COOKIE_MODE,
    })
    expect(res.status).toBe(200)
    jar.absorb(res)
    expect(decodeJwt(jar.access!).payload.sub).toBe(account.userId)
  })

  it('POST /auth/refresh in cookie mode without any refresh token is 401 invalid_refresh_token', async () => {
    const res = await browserApi(new CookieJar(), '/auth/refresh', {
      method: 'POST',
      headers: COOKIE_MODE,
    })
    await expectError(res, 401, 'invalid_refresh_token')
  })

  it('POST /auth/refresh without X-Auth-Mode still requires the JSON body, cookie or not', async () => {
    const { jar } = await registerInCookieMode()
    const res = await browserApi(jar, '/auth/refresh', { json: {} })
    await expectError(res, 400, 'validation_failed')
  })
})

describe('protected routes with the access cookie', () => {
  it('GET /me accepts the access cookie when no Authorization header is sent', async () => {
    const { jar, email } = await registerInCookieMode()
    const res = await browserApi(jar, '/me')
    expect(res.status).toBe(200)
    expect((await res.json<{ user: { email: string } }>()).user.email).toBe(email)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('GET /me with neither Authorization nor an access cookie is 401 missing_token', async () => {
    const res = await browserApi(new CookieJar(), '/me')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).not.toContain('error=')
  })

  it('GET /me ignores the cookie when an Authorization header is sent', async () => {
    const { jar } = await registerInCookieMode()
    const res = await browserApi(jar, '/me', { headers: { Authorization: 'Bearer not-a-token' } })
    await expectError(res, 401, 'invalid_token')
  })

  it('GET /me with a forged access cookie is 401 invalid_token and clears both cookies', async () => {
    const { jar } = await registerInCookieMode()
    jar.cookies.set(ACCESS_COOKIE, `${jar.access!.slice(0, -4)}AAAA`)
    const res = await browserApi(jar, '/me')
    await expectError(res, 401, 'invalid_token')
    jar.absorb(res)
    expectTokenCookiesCleared(jar)
  })
})

describe('implicit refresh', () => {
  it('GET /notes with an expired access cookie and a valid refresh cookie rotates both and serves the request', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    const before = jar.clone()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    const res = await browserApi(jar, '/notes')
    expect(res.status, await res.clone().text()).toBe(200)
    const cookies = setCookies(res)
    expect(cookies.get(ACCESS_COOKIE)?.attributes).toMatchObject({
      httponly: '',
      secure: '',
      samesite: 'Lax',
    })
    expect(cookies.get(REFRESH_COOKIE)?.attributes).toMatchObject({
      httponly: '',
      secure: '',
      samesite: 'Strict',
    })
    jar.absorb(res)
    expect(jar.refresh).not.toBe(before.refresh)
    expect(decodeJwt(jar.access!).payload.exp).toBe(Math.floor(Date.now() / 1000) + ACCESS_TTL)
    expect(decodeJwt(jar.access!).payload.sid).toBe(decodeJwt(before.access!).payload.sid)

    // The new cookies work alone; the old access cookie alone is only expired.
    const next = await browserApi(jar, '/me')
    expect(next.status).toBe(200)
    expect(next.headers.getSetCookie()).toEqual([])
    const stale = new CookieJar()
    stale.cookies.set(ACCESS_COOKIE, before.access!)
    await expectError(await browserApi(stale, '/me'), 401, 'token_expired')
  })

  it('renews an access cookie that is within ACCESS_REFRESH_MARGIN of expiry, and not one further away', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    setClock(start + (ACCESS_TTL - MARGIN - 5) * 1000)
    const early = await browserApi(jar, '/me')
    expect(early.status).toBe(200)
    expect(early.headers.getSetCookie()).toEqual([])

    setClock(start + (ACCESS_TTL - MARGIN + 5) * 1000)
    const due = await browserApi(jar, '/me')
    expect(due.status).toBe(200)
    expect([...setCookies(due).keys()].sort()).toEqual([ACCESS_COOKIE, REFRESH_COOKIE].sort())
  })

  it('delivers the rotated cookies even when the route then answers with an error', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)
    const res = await browserApi(jar, `/notes/${crypto.randomUUID()}`)
    await expectError(res, 404, 'not_found')
    const before = jar.refresh
    jar.absorb(res)
    expect(jar.refresh).not.toBe(before)
    expect((await browserApi(jar, '/me')).status).toBe(200)
  })

  it('concurrent requests with the same expired cookies all succeed and share one successor', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    const responses = await Promise.all(
      Array.from({ length: 6 }, () => browserApi(jar.clone(), '/notes'))
    )
    for (const res of responses) expect(res.status, await res.clone().text()).toBe(200)
    const successors = new Set(responses.map((res) => setCookies(res).get(REFRESH_COOKIE)?.value))
    expect(successors.size).toBe(1)
    expect([...successors][0]).toBeDefined()
    expect([...successors][0]).not.toBe(jar.refresh)

    // No reuse alarm: the session lives on with the successor.
    jar.absorb(responses[0])
    setClock(start + (ACCESS_TTL + 30) * 1000)
    expect((await browserApi(jar, '/me')).status).toBe(200)
    const sessions = await browserApi(jar, '/auth/sessions')
    expect((await sessions.json<{ sessions: unknown[] }>()).sessions).toHaveLength(1)
  })

  it('a copied pair of cookies renewed after its twin did ends the session and tells the owner', async () => {
    const start = pinClock()
    const { jar, email } = await registerInCookieMode()
    const sessionId = decodeJwt(jar.access ?? '').payload.sid
    const copy = jar.clone()
    setClock(start + (ACCESS_TTL + 1) * 1000)
    const renewed = await browserApi(jar, '/me')
    expect(renewed.status).toBe(200)
    jar.absorb(renewed)
    setClock(start + (ACCESS_TTL + 1) * 1000 + GRACE_MS)

    // The copy's refresh cookie was rotated away past the grace window: a theft.
    const replay = await browserApi(copy, '/me')

    await expectError(replay, 401, 'token_revoked')
    copy.absorb(replay)
    expectTokenCookiesCleared(copy)
    await expectError(await browserApi(jar, '/me'), 401, 'token_revoked')
    const events = await env.DB.prepare(
      `SELECT e.type, e.session_id FROM security_events e JOIN users u ON u.id = e.user_id
        WHERE u.email = ?1 AND e.type = 'refresh_reuse_detected'`
    )
      .bind(email)
      .all<{ type: string; session_id: string }>()
    expect(events.results).toEqual([{ type: 'refresh_reuse_detected', session_id: sessionId }])
  })

  it('keeps both cookies when the session check fails (503): an outage signs nobody out', async () => {
    const { jar } = await registerInCookieMode()
    const res = await apiWithEnv(
      { DB: d1FailingOn(env.DB, /FROM sessions s JOIN users u/) },
      '/me',
      {
        headers: { Origin: SAME_ORIGIN, Cookie: jar.header },
      }
    )
    await expectError(res, 503, 'service_unavailable')
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await browserApi(jar, '/me')).status).toBe(200)
  })

  it('an expired access cookie without a refresh cookie is 401 token_expired and is cleared', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    jar.cookies.delete(REFRESH_COOKIE)
    setClock(start + (ACCESS_TTL + 1) * 1000)
    const res = await browserApi(jar, '/me')
    await expectError(res, 401, 'token_expired')
    jar.absorb(res)
    expectTokenCookiesCleared(jar)
  })

  it('an expired access cookie with a dead refresh cookie is 401 token_expired and both are cleared', async () => {
    const start = pinClock()
    const { jar } = await registerInCookieMode()
    jar.cookies.set(REFRESH_COOKIE, 'A'.repeat(43))
    setClock(start + (ACCESS_TTL + 1) * 1000)
    const res = await browserApi(jar, '/me')
    await expectError(res, 401, 'token_expired')
    jar.absorb(res)
    expectTokenCookiesCleared(jar)
  })
})

describe('logout in cookie mode', () => {
  it('POST /auth/logout clears both cookies and ends the session', async () => {
    const { jar } = await registerInCookieMode()
    const before = jar.clone()
    const res = await browserApi(jar, '/auth/logout', { method: 'POST' })
    expect(res.status).toBe(204)
    const cleared = setCookies(res)
    expect(cleared.get(ACCESS_COOKIE)?.attributes['max-age']).toBe('0')
    expect(cleared.get(REFRESH_COOKIE)?.attributes['max-age']).toBe('0')
    expect(cleared.get(ACCESS_COOKIE)?.value).toBe('')
    jar.absorb(res)
    expectTokenCookiesCleared(jar)

    // A copy of the old cookies is refused: the session is over, not merely forgotten.
    await expectError(await browserApi(before, '/me'), 401, 'token_revoked')
    const replay = await browserApi(before.clone(), '/auth/refresh', {
      method: 'POST',
      headers: COOKIE_MODE,
    })
    await expectError(replay, 401, 'invalid_refresh_token')
  })

  it('POST /auth/logout-all clears both cookies and ends every session', async () => {
    const { jar, email } = await registerInCookieMode()
    const other = await api('/auth/login', { json: { email, password: PASSWORD } })
    const { access_token: otherAccess } = await other.json<{ access_token: string }>()
    const res = await browserApi(jar, '/auth/logout-all', { method: 'POST' })
    expect(res.status).toBe(204)
    jar.absorb(res)
    expectTokenCookiesCleared(jar)
    await expectError(await api('/me', { token: otherAccess }), 401, 'token_revoked')
  })

  it('a cookie whose session was ended elsewhere is 401 token_revoked and is cleared', async () => {
    const { jar } = await registerInCookieMode()
    const sid = decodeJwt(jar.access!).payload.sid as string
    const ended = await browserApi(jar.clone(), `/auth/sessions/${sid}`, { method: 'DELETE' })
    expect(ended.status).toBe(204)
    const res = await browserApi(jar, '/me')
    await expectError(res, 401, 'token_revoked')
    jar.absorb(res)
    expectTokenCookiesCleared(jar)
  })
})
