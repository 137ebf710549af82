/** Attacks on the composition root: the host app's gate, the 503 guard, the error registries. */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../src/env'
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
