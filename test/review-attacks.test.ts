/** Attacks on the composition root: the host app's gate, the 503 guard, the error registries. */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { cloudflarePorts } from '../src/adapters'
import { lazySigner } from '../src/auth/signer'
import { createAuth } from '../src/create-auth'
import type { AppEnv } from '../src/env'
import { authOptions } from '../src/options'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { COOKIE_MODE, CookieJar, SAME_ORIGIN } from './helpers/cookies'
import { fetchApp, testAuth } from './helpers/create-auth'
import type { RequestOptions } from './helpers/requests'
import { expectError } from './helpers/requests'

const EVIL_ORIGIN = 'https://evil.example'

/** A host app with a state-changing route of its own behind the gate. */
const hostWithWrite = () => {
  const auth = testAuth()
  const writes: string[] = []
  const host = new Hono<AppEnv>()
    .route('/identity', auth.app)
    .post('/projects', auth.requireAuth(), (c) => {
      writes.push(c.var.auth.userId)
      return c.json({ created: true }, 201)
    })
  const call = (path: string, options: RequestOptions = {}) => fetchApp(host, path, options)
  return { call, writes }
}

describe("the host app's gate", () => {
  it('refuses a cookie-authenticated write from another origin (403), and the route never runs', async () => {
    const { call, writes } = hostWithWrite()
    const registered = await call('/identity/auth/register', {
      json: { email: uniqueEmail(), password: PASSWORD },
      headers: { ...COOKIE_MODE, Origin: SAME_ORIGIN },
    })
    expect(registered.status).toBe(201)
    const jar = new CookieJar().absorb(registered)

    // A sibling subdomain is same-site: the Lax access cookie goes along with its form post.
    const forged = await call('/projects', {
      method: 'POST',
      json: {},
      headers: { Cookie: jar.header, Origin: EVIL_ORIGIN, 'Sec-Fetch-Site': 'same-site' },
    })
    await expectError(forged, 403, 'forbidden')
    expect(writes).toEqual([])

    const own = await call('/projects', {
      method: 'POST',
      json: {},
      headers: { Cookie: jar.header, Origin: SAME_ORIGIN },
    })
    expect(own.status).toBe(201)
    expect(writes).toHaveLength(1)
  })
})

describe('the 503 guard', () => {
  it('SESSION_CHECK=replica: a D1 binding whose session API fails answers 503, not 500', async () => {
    const registered = await fetchApp(testAuth().app, '/auth/register', {
      json: { email: uniqueEmail(), password: PASSWORD },
    })
    const { access_token: token } = await registered.json<{ access_token: string }>()
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'withSession') {
          return () => {
            throw new Error('D1_ERROR: the Sessions API is unreachable')
          }
        }
        const value: unknown = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const broken = createAuth(
      authOptions({
        signer: lazySigner('HS256', undefined, { JWT_SECRET: env.TEST_JWT_SECRET }),
        issuer: env.JWT_ISSUER,
        sessionCheck: 'replica',
      }),
      cloudflarePorts({ db, refreshTokens: env.REFRESH_TOKENS })
    )
    const res = await fetchApp(broken.app, '/me', { token })
    await expectError(res, 503, 'service_unavailable')
  })
})
