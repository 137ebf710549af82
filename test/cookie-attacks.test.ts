/**
 * Attacks on cookie mode, built as an attacker would: a refresh cookie tossed in from a sibling
 * subdomain, another session's refresh cookie beside the victim's access cookie, and cross-site
 * navigations that try to make the worker set or clear cookies (logout CSRF).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { pinClock, setClock } from './helpers/clock'
import { COOKIE_MODE, SAME_ORIGIN, registerInCookieMode, setCookies } from './helpers/cookies'
import type { CookieJar } from './helpers/cookies'
import { api, expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'

const ACCESS_TTL = Number(env.ACCESS_TOKEN_TTL)

/** The names a sibling subdomain can write: `__Secure-` allows `Domain=`, `__Host-` never does. */
const TOSSABLE_REFRESH_COOKIE = '__Secure-refresh_token'

/** The one cookie of a jar whose name says it holds the refresh token, whatever its prefix. */
const refreshCookieOf = (jar: CookieJar): [string, string] => {
  const entry = [...jar.cookies].find(([name]) => name.endsWith('refresh_token'))
  if (!entry) throw new Error('the jar holds no refresh cookie')
  return entry
}
const accessCookieOf = (jar: CookieJar): [string, string] => {
  const entry = [...jar.cookies].find(([name]) => name.endsWith('access_token'))
  if (!entry) throw new Error('the jar holds no access cookie')
  return entry
}

const cookieHeader = (...pairs: [string, string][]): string =>
  pairs.map(([name, value]) => `${name}=${value}`).join('; ')

/** The attacker's own session still refreshes: nothing of it was used up by the attack. */
const expectRefreshStillWorks = async (jar: CookieJar): Promise<void> => {
  const res = await api('/auth/refresh', {
    json: {},
    headers: { ...COOKIE_MODE, Origin: SAME_ORIGIN, Cookie: cookieHeader(refreshCookieOf(jar)) },
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

describe('cookie tossing', () => {
  it('both cookies are __Host- cookies: Secure, Path=/, no Domain', async () => {
    const { jar } = await registerInCookieMode()
    const [refreshName] = refreshCookieOf(jar)
    const [accessName] = accessCookieOf(jar)
    expect(accessName).toBe('__Host-access_token')
    expect(refreshName).toBe('__Host-refresh_token')
  })

  it('GET /me with the victim`s expired access cookie and a refresh cookie tossed from a sibling subdomain is 401 and renews nothing', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    const attacker = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    const res = await api('/me', {
      headers: {
        Origin: SAME_ORIGIN,
        // The sibling set its cookie with Domain=<parent>; the browser sends it beside ours.
        Cookie: cookieHeader(accessCookieOf(victim.jar), [
          TOSSABLE_REFRESH_COOKIE,
          refreshCookieOf(attacker.jar)[1],
        ]),
      },
    })

    const body = await expectError(res, 401, 'token_expired')
    expect(JSON.stringify(body)).not.toContain(attacker.email)
    const renewed = [...setCookies(res).values()].filter((cookie) => cookie.value !== '')
    expect(renewed).toEqual([])
    await expectRefreshStillWorks(attacker.jar)
  })

  it('GET /me with an access cookie of one session and a refresh cookie of another is 401, and neither session is renewed', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    const attacker = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    // The attacker's refresh cookie under the very name the worker uses, however it got there.
    const res = await api('/me', {
      headers: {
        Origin: SAME_ORIGIN,
        Cookie: cookieHeader(accessCookieOf(victim.jar), refreshCookieOf(attacker.jar)),
      },
    })

    const body = await expectError(res, 401, 'invalid_token')
    expect(JSON.stringify(body)).not.toContain(attacker.email)
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    const renewed = [...setCookies(res).values()].filter((cookie) => cookie.value !== '')
    expect(renewed).toEqual([])
    await expectRefreshStillWorks(attacker.jar)
    await expectRefreshStillWorks(victim.jar)
  })

  it('POST /notes with a mismatched pair writes nothing into the other account', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    const attacker = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    const res = await api('/notes', {
      json: { title: 'diary', body: 'private' },
      headers: {
        Origin: SAME_ORIGIN,
        Cookie: cookieHeader(accessCookieOf(victim.jar), refreshCookieOf(attacker.jar)),
      },
    })
    expect(res.status).toBe(401)

    const stored = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM notes n JOIN users u ON u.id = n.user_id WHERE u.email = ?1'
    )
      .bind(attacker.email)
      .first<{ n: number }>()
    expect(stored?.n).toBe(0)
  })
})

describe('cross-site requests never set or clear cookies', () => {
  const crossSiteNavigation = (cookie: string) => ({
    headers: {
      Cookie: cookie,
      'Sec-Fetch-Site': 'cross-site',
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'document',
    },
  })

  it('a cross-site navigation to GET /me with an expired access cookie is 401 and clears nothing', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    // SameSite=Strict keeps the refresh cookie out of a cross-site navigation; Lax lets this in.
    const res = await api('/me', crossSiteNavigation(cookieHeader(accessCookieOf(victim.jar))))

    await expectError(res, 401, 'token_expired')
    expect(res.headers.getSetCookie()).toEqual([])
    await expectRefreshStillWorks(victim.jar)
  })

  // The session check's own expiry test: a cookie request verifies with expired tokens accepted
  // (renewal needs the sid), so nothing before it refuses the token at exactly its exp.
  it('a cross-site navigation at exactly the access cookie\u2019s exp is 401 token_expired', async () => {
    pinClock()
    const victim = await registerInCookieMode()
    const access = accessCookieOf(victim.jar)
    const { exp } = decodeJwt(access[1]).payload as { exp: number }
    setClock((exp - 1) * 1000)
    expect((await api('/me', crossSiteNavigation(cookieHeader(access)))).status).toBe(200)
    setClock(exp * 1000)

    const res = await api('/me', crossSiteNavigation(cookieHeader(access)))

    await expectError(res, 401, 'token_expired')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a cross-site request carrying both cookies renews nothing and sets no cookie', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)

    const res = await api(
      '/me',
      crossSiteNavigation(cookieHeader(accessCookieOf(victim.jar), refreshCookieOf(victim.jar)))
    )

    expect(res.status).toBe(401)
    expect(res.headers.getSetCookie()).toEqual([])
    await expectRefreshStillWorks(victim.jar)
  })

  it('a cross-site navigation with a forged access cookie is 401 and clears nothing', async () => {
    const victim = await registerInCookieMode()
    const res = await api(
      '/me',
      crossSiteNavigation(
        cookieHeader(['__Host-access_token', 'not.a.jwt'], refreshCookieOf(victim.jar))
      )
    )
    await expectError(res, 401, 'invalid_token')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a cross-site navigation with a revoked session`s cookie is 401 token_revoked and clears nothing', async () => {
    const victim = await registerInCookieMode()
    await env.DB.prepare(
      'UPDATE sessions SET revoked_at = 1 WHERE user_id = (SELECT id FROM users WHERE email = ?1)'
    )
      .bind(victim.email)
      .run()
    const res = await api('/me', crossSiteNavigation(cookieHeader(accessCookieOf(victim.jar))))
    await expectError(res, 401, 'token_revoked')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a same-site request with an expired access cookie still renews both cookies', async () => {
    const start = pinClock()
    const victim = await registerInCookieMode()
    setClock(start + (ACCESS_TTL + 1) * 1000)
    const res = await api('/me', {
      headers: {
        Cookie: victim.jar.header,
        'Sec-Fetch-Site': 'same-origin',
      },
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(setCookies(res).size).toBe(2)
  })
})
