/**
 * examples/host-app: the auth service used as a library inside another Hono app, under its own
 * binding names, with its routes under /identity and a protected resource of the host's own.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createHostApp } from '../examples/host-app/app'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { CookieJar, COOKIE_MODE, SAME_ORIGIN, setCookies } from './helpers/cookies'
import { fetchApp } from './helpers/create-auth'
import type { RequestOptions } from './helpers/requests'
import { expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'

const host = createHostApp({
  USERS_DB: env.DB,
  SESSIONS_KV: env.REFRESH_TOKENS,
  AUTH_SECRET: env.TEST_JWT_SECRET,
})
const call = (path: string, options: RequestOptions = {}) => fetchApp(host, path, options)

const register = async (headers: Record<string, string> = {}) => {
  const email = uniqueEmail()
  const res = await call('/identity/auth/register', {
    json: { email, password: PASSWORD },
    headers,
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return { email, res, body: (await res.json()) as Record<string, unknown> }
}

describe('the host app', () => {
  it('serves the auth routes under its prefix, with its own options', async () => {
    const { body } = await register()
    expect(body.expires_in).toBe(600)
    const { payload } = decodeJwt(String(body.access_token))
    expect(payload.iss).toBe('host-app')
    const me = await call('/identity/me', { token: String(body.access_token) })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe(payload.sub)
    expect((await call('/identity/health')).status).toBe(200)
  })

  it('protects its own route with a bearer token', async () => {
    const { body } = await register()
    const res = await call('/projects', { token: String(body.access_token) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      owner: decodeJwt(String(body.access_token)).payload.sub,
      email: (body.user as { email: string }).email,
      projects: [],
    })
  })

  it('protects its own route in cookie mode, renewing an expired access cookie', async () => {
    const { res } = await register({ ...COOKIE_MODE, Origin: SAME_ORIGIN })
    const jar = new CookieJar().absorb(res)
    const headers = { Origin: SAME_ORIGIN, Cookie: jar.header }
    expect((await call('/projects', { headers })).status).toBe(200)

    pinClock()
    advanceClock(601)
    const renewed = await call('/projects', { headers })

    expect(renewed.status, await renewed.clone().text()).toBe(200)
    const rotated = setCookies(renewed)
    expect(rotated.size).toBe(2)
    expect(jar.clone().absorb(renewed).refresh).not.toBe(jar.refresh)
  })

  it("answers a request without a token as the contract's 401, not the host's 500", async () => {
    const res = await call('/projects')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="edge-jwt-auth"')
  })

  it("renders domain errors as the contract's JSON on its own route and under the prefix", async () => {
    const { email, body } = await register()
    const token = String(body.access_token)
    const wrong = await call('/identity/auth/login', {
      json: { email, password: 'not the password at all' },
    })
    await expectError(wrong, 401, 'invalid_credentials')

    const logout = await call('/identity/auth/logout', { method: 'POST', token })
    expect(logout.status).toBe(204)
    const revoked = await call('/projects', { token })
    await expectError(revoked, 401, 'token_revoked')
    expect(revoked.headers.get('WWW-Authenticate')).toContain('error="invalid_token"')
  })
})
