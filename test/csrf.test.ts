/** CSRF defence: cookie-authenticated writes must come from an allowed origin; bearer ones need not. */
import { describe, expect, it } from 'vitest'
import { comesFromAllowedOrigin } from '../src/http/csrf'
import { PASSWORD, registerUser } from './helpers/accounts'
import { COOKIE_MODE, SAME_ORIGIN, browserApi, registerInCookieMode } from './helpers/cookies'
import type { CookieJar } from './helpers/cookies'
import { api, expectError } from './helpers/requests'

const NOTE = { title: 'groceries', body: 'milk' }
const EVIL_ORIGIN = 'https://evil.example'

const noteCount = async (jar: CookieJar): Promise<number> => {
  const res = await browserApi(jar, '/notes')
  return (await res.json<{ notes: unknown[] }>()).notes.length
}

/** A cookie request built by hand, so that no Origin is added unless the test says so. */
const cookieRequest = (
  jar: CookieJar,
  path: string,
  method: string,
  headers: Record<string, string> = {}
) =>
  api(path, {
    method,
    json: method === 'DELETE' ? undefined : NOTE,
    headers: { Cookie: jar.header, ...headers },
  })

describe('CSRF rejections', () => {
  it('POST /notes with the cookie and a cross-site Origin is 403 forbidden and stores nothing', async () => {
    const { jar } = await registerInCookieMode()
    const res = await cookieRequest(jar, '/notes', 'POST', {
      Origin: EVIL_ORIGIN,
      'Sec-Fetch-Site': 'cross-site',
    })
    const body = await expectError(res, 403, 'forbidden')
    expect(body.message).toMatch(/origin/i)
    expect(await noteCount(jar)).toBe(0)
  })

  it('POST /notes with the cookie and neither Origin nor Sec-Fetch-Site is 403 forbidden', async () => {
    const { jar } = await registerInCookieMode()
    await expectError(await cookieRequest(jar, '/notes', 'POST'), 403, 'forbidden')
    expect(await noteCount(jar)).toBe(0)
  })

  it('POST /notes with the cookie, no Origin and Sec-Fetch-Site: same-site is 403 forbidden', async () => {
    const { jar } = await registerInCookieMode()
    const res = await cookieRequest(jar, '/notes', 'POST', { 'Sec-Fetch-Site': 'same-site' })
    await expectError(res, 403, 'forbidden')
  })

  it('POST /notes with the cookie and Origin: null is 403 forbidden', async () => {
    const { jar } = await registerInCookieMode()
    await expectError(
      await cookieRequest(jar, '/notes', 'POST', { Origin: 'null' }),
      403,
      'forbidden'
    )
  })

  it('PATCH and DELETE /notes/:id with the cookie from another site are 403 forbidden', async () => {
    const { jar } = await registerInCookieMode()
    const created = await browserApi(jar, '/notes', { json: NOTE })
    const { note } = await created.json<{ note: { id: string } }>()
    await expectError(
      await cookieRequest(jar, `/notes/${note.id}`, 'PATCH', { Origin: EVIL_ORIGIN }),
      403,
      'forbidden'
    )
    await expectError(
      await cookieRequest(jar, `/notes/${note.id}`, 'DELETE', { Origin: EVIL_ORIGIN }),
      403,
      'forbidden'
    )
    expect((await browserApi(jar, `/notes/${note.id}`)).status).toBe(200)
  })

  it('POST /auth/logout with the cookie from another site is 403 and the session lives on', async () => {
    const { jar } = await registerInCookieMode()
    const res = await api('/auth/logout', {
      method: 'POST',
      headers: { Cookie: jar.header, Origin: EVIL_ORIGIN },
    })
    await expectError(res, 403, 'forbidden')
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await browserApi(jar, '/me')).status).toBe(200)
  })

  it('POST /auth/login in cookie mode from another site or without Origin is 403 (login CSRF)', async () => {
    const { email } = await registerInCookieMode()
    const json = { email, password: PASSWORD }
    const crossSite = await api('/auth/login', {
      json,
      headers: { ...COOKIE_MODE, Origin: EVIL_ORIGIN },
    })
    await expectError(crossSite, 403, 'forbidden')
    expect(crossSite.headers.getSetCookie()).toEqual([])
    await expectError(await api('/auth/login', { json, headers: COOKIE_MODE }), 403, 'forbidden')
    const register = await api('/auth/register', {
      json: { email: `x${email}`, password: PASSWORD },
      headers: { ...COOKIE_MODE, Origin: EVIL_ORIGIN },
    })
    await expectError(register, 403, 'forbidden')
  })

  it('POST /auth/refresh in cookie mode from another site is 403 and does not rotate', async () => {
    const { jar } = await registerInCookieMode()
    const res = await api('/auth/refresh', {
      method: 'POST',
      headers: { ...COOKIE_MODE, Cookie: jar.header, Origin: EVIL_ORIGIN },
    })
    await expectError(res, 403, 'forbidden')
    const same = await browserApi(jar, '/auth/refresh', { method: 'POST', headers: COOKIE_MODE })
    expect(same.status).toBe(200)
  })
})

describe('CSRF acceptance', () => {
  it('POST /notes with the cookie and the same Origin is 201', async () => {
    const { jar } = await registerInCookieMode()
    const res = await cookieRequest(jar, '/notes', 'POST', { Origin: SAME_ORIGIN })
    expect(res.status, await res.clone().text()).toBe(201)
    expect(await noteCount(jar)).toBe(1)
  })

  it('POST /notes with the cookie, no Origin and Sec-Fetch-Site: same-origin is 201', async () => {
    const { jar } = await registerInCookieMode()
    const res = await cookieRequest(jar, '/notes', 'POST', { 'Sec-Fetch-Site': 'same-origin' })
    expect(res.status).toBe(201)
  })

  it('GET /notes with the cookie from another site is served: safe methods change nothing', async () => {
    const { jar } = await registerInCookieMode()
    const res = await api('/notes', { headers: { Cookie: jar.header, Origin: EVIL_ORIGIN } })
    expect(res.status).toBe(200)
  })

  it('POST /notes with a bearer token and no Origin is 201', async () => {
    const account = await registerUser()
    const res = await api('/notes', { json: NOTE, token: account.accessToken })
    expect(res.status).toBe(201)
  })

  it('POST /notes with a bearer token is 201 even from another origin and with stray cookies', async () => {
    const account = await registerUser()
    const { jar } = await registerInCookieMode()
    const res = await api('/notes', {
      json: NOTE,
      token: account.accessToken,
      headers: { Origin: EVIL_ORIGIN, Cookie: jar.header },
    })
    expect(res.status).toBe(201)
  })

  it('POST /auth/login for bearer clients needs no Origin', async () => {
    const account = await registerUser()
    const res = await api('/auth/login', {
      json: { email: account.email, password: account.password },
    })
    expect(res.status).toBe(200)
  })

  it('an origin listed in CORS_ORIGINS is allowed, and nothing else across sites', () => {
    const own = 'https://api.example.com'
    const allowed = ['https://app.example.com']
    expect(comesFromAllowedOrigin('https://app.example.com', 'same-site', own, allowed)).toBe(true)
    expect(comesFromAllowedOrigin(own, 'same-origin', own, allowed)).toBe(true)
    expect(
      comesFromAllowedOrigin('https://app.example.com.evil.example', 'cross-site', own, allowed)
    ).toBe(false)
    expect(comesFromAllowedOrigin('http://api.example.com', 'cross-site', own, allowed)).toBe(false)
    // An Origin header decides even if Sec-Fetch-Site claims otherwise.
    expect(comesFromAllowedOrigin(EVIL_ORIGIN, 'same-origin', own, allowed)).toBe(false)
    expect(comesFromAllowedOrigin(undefined, undefined, own, allowed)).toBe(false)
  })
})
