/**
 * Storage round trips per route, as a budget: every D1 and KV call a request makes is counted
 * through wrapped bindings, and so is how many of them a client waits through one after another.
 * Far from the D1 primary each sequential round trip costs a full network round trip (see
 * docs/scaling.md), so adding one fails its test here until the table in bench/README.md and the
 * latency model are updated with it.
 */
import { describe, expect, it } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { SAME_ORIGIN, registerInCookieMode } from './helpers/cookies'
import { api, expectError } from './helpers/requests'
import { FaultyStorage } from './helpers/storage-faults'
import { decodeJwt } from './helpers/tokens'

const PASSWORD = 'correct horse battery staple'
/** wrangler.toml's ACCESS_TOKEN_TTL. */
const ACCESS_TOKEN_TTL = 900

interface Budget {
  /** Every storage call in the order it was made, e.g. `d1.first`, `kv.put`. */
  calls: string[]
  /** Round trips in sequence; calls made at once count as one. */
  sequential: number
  /** Calls after the response (waitUntil: a security event); no client waits for them. */
  afterResponse?: string[]
}

interface RouteCase {
  route: string
  /** Builds the state the request needs, with unwrapped storage; returns the request. */
  arrange: () => Promise<{ path: string; init?: RequestInit }>
  status: number
  budget: Budget
}

const jsonInit = (method: string, body: unknown, token?: string): RequestInit => ({
  method,
  headers: {
    'Content-Type': 'application/json',
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(body),
})
const authInit = (token: string, method = 'GET'): RequestInit => ({
  method,
  headers: { Authorization: `Bearer ${token}` },
})
const formInit = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
})

const createNote = async (account: Account): Promise<string> => {
  const res = await api('/notes', {
    token: account.accessToken,
    json: { title: 'a note', body: 'its body' },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { note: { id: string } }).note.id
}

/** A second session of the same account, for the routes that end one. */
const secondSession = async (account: Account): Promise<string> => {
  const res = await api('/auth/login', { json: { email: account.email, password: PASSWORD } })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { access_token: string }
  return String(decodeJwt(body.access_token).payload.sid)
}

const signedIn = async (): Promise<Account> => registerUser({ password: PASSWORD })

const CASES: RouteCase[] = [
  {
    route: 'GET /health',
    arrange: async () => ({ path: '/health' }),
    status: 200,
    budget: { calls: [], sequential: 0 },
  },
  {
    route: 'GET /me with a forged signature',
    arrange: async () => {
      const account = await signedIn()
      const forged =
        account.accessToken.slice(0, -2) + (account.accessToken.endsWith('AA') ? 'BB' : 'AA')
      return { path: '/me', init: authInit(forged) }
    },
    status: 401,
    budget: { calls: [], sequential: 0 },
  },
  {
    route: 'GET /me',
    arrange: async () => ({ path: '/me', init: authInit((await signedIn()).accessToken) }),
    status: 200,
    budget: { calls: ['d1.first'], sequential: 1 },
  },
  {
    // The access cookie has expired: the refresh cookie renews it in passing. The rotation's own
    // reads stand in for the session check: the index, the session, the successor, the swap.
    route: 'GET /me in cookie mode, renewing an expired access cookie',
    arrange: async () => {
      const { jar } = await registerInCookieMode()
      pinClock()
      advanceClock(ACCESS_TOKEN_TTL + 1)
      return { path: '/me', init: { headers: { Origin: SAME_ORIGIN, Cookie: jar.header } } }
    },
    status: 200,
    budget: { calls: ['kv.get', 'd1.first', 'kv.put', 'd1.run'], sequential: 4 },
  },
  {
    route: 'GET /me in cookie mode, with an access cookie that needs no renewal',
    arrange: async () => {
      const { jar } = await registerInCookieMode()
      return { path: '/me', init: { headers: { Origin: SAME_ORIGIN, Cookie: jar.header } } }
    },
    status: 200,
    budget: { calls: ['d1.first'], sequential: 1 },
  },
  {
    route: 'POST /auth/register',
    arrange: async () => ({
      path: '/auth/register',
      init: jsonInit('POST', { email: uniqueEmail(), password: PASSWORD }),
    }),
    status: 201,
    budget: { calls: ['d1.first', 'kv.put', 'd1.batch'], sequential: 3 },
  },
  {
    route: 'POST /auth/login',
    arrange: async () => {
      const account = await signedIn()
      return {
        path: '/auth/login',
        init: jsonInit('POST', { email: account.email, password: PASSWORD }),
      }
    },
    status: 200,
    budget: {
      calls: ['d1.batch', 'd1.first', 'kv.put', 'd1.batch'],
      sequential: 3,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'POST /auth/login with a wrong password',
    arrange: async () => {
      const account = await signedIn()
      return {
        path: '/auth/login',
        init: jsonInit('POST', { email: account.email, password: 'not the password at all' }),
      }
    },
    status: 401,
    budget: { calls: ['d1.batch', 'd1.first'], sequential: 1, afterResponse: ['d1.run'] },
  },
  {
    route: 'POST /auth/refresh',
    arrange: async () => ({
      path: '/auth/refresh',
      init: jsonInit('POST', { refresh_token: (await signedIn()).refreshToken }),
    }),
    status: 200,
    budget: { calls: ['kv.get', 'd1.first', 'kv.put', 'd1.run'], sequential: 4 },
  },
  {
    route: 'POST /oauth/token (refresh_token grant)',
    arrange: async () => ({
      path: '/oauth/token',
      init: formInit({
        grant_type: 'refresh_token',
        refresh_token: (await signedIn()).refreshToken,
      }),
    }),
    status: 200,
    budget: { calls: ['kv.get', 'd1.first', 'kv.put', 'd1.run'], sequential: 4 },
  },
  {
    route: 'POST /oauth/revoke (refresh token)',
    arrange: async () => ({
      path: '/oauth/revoke',
      init: formInit({ token: (await signedIn()).refreshToken }),
    }),
    status: 200,
    budget: { calls: ['kv.get', 'd1.all', 'kv.delete'], sequential: 3, afterResponse: ['d1.run'] },
  },
  {
    route: 'POST /auth/logout',
    arrange: async () => ({
      path: '/auth/logout',
      init: authInit((await signedIn()).accessToken, 'POST'),
    }),
    status: 204,
    budget: {
      calls: ['d1.first', 'd1.all', 'kv.delete'],
      sequential: 3,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'POST /auth/logout-all',
    arrange: async () => ({
      path: '/auth/logout-all',
      init: authInit((await signedIn()).accessToken, 'POST'),
    }),
    status: 204,
    budget: {
      calls: ['d1.first', 'd1.all', 'kv.delete'],
      sequential: 3,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'GET /auth/sessions',
    arrange: async () => ({
      path: '/auth/sessions',
      init: authInit((await signedIn()).accessToken),
    }),
    status: 200,
    budget: { calls: ['d1.first', 'd1.all'], sequential: 2 },
  },
  {
    route: 'DELETE /auth/sessions/:id',
    arrange: async () => {
      const account = await signedIn()
      const other = await secondSession(account)
      return { path: `/auth/sessions/${other}`, init: authInit(account.accessToken, 'DELETE') }
    },
    status: 204,
    budget: {
      calls: ['d1.first', 'd1.all', 'kv.delete'],
      sequential: 3,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'POST /auth/password',
    arrange: async () => {
      const account = await signedIn()
      await secondSession(account)
      return {
        path: '/auth/password',
        init: jsonInit(
          'POST',
          { current_password: PASSWORD, new_password: 'another long passphrase' },
          account.accessToken
        ),
      }
    },
    status: 204,
    budget: {
      calls: ['d1.first', 'd1.first', 'd1.batch', 'd1.run', 'd1.batch', 'kv.delete'],
      sequential: 6,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'PATCH /me',
    arrange: async () => ({
      path: '/me',
      init: jsonInit('PATCH', { nickname: 'renamed' }, (await signedIn()).accessToken),
    }),
    status: 200,
    budget: { calls: ['d1.first', 'd1.first'], sequential: 2 },
  },
  {
    route: 'DELETE /me',
    arrange: async () => ({
      path: '/me',
      init: jsonInit('DELETE', { password: PASSWORD }, (await signedIn()).accessToken),
    }),
    status: 204,
    budget: {
      calls: ['d1.first', 'd1.first', 'd1.batch', 'd1.run', 'd1.all', 'd1.batch', 'kv.delete'],
      sequential: 7,
      afterResponse: ['d1.run'],
    },
  },
  {
    route: 'POST /auth/password/forgot (mail off)',
    arrange: async () => ({
      path: '/auth/password/forgot',
      init: jsonInit('POST', { email: (await signedIn()).email }),
    }),
    status: 202,
    budget: { calls: [], sequential: 0 },
  },
  {
    route: 'POST /auth/email/verification (mail off)',
    arrange: async () => ({
      path: '/auth/email/verification',
      init: jsonInit('POST', { email: (await signedIn()).email }),
    }),
    status: 202,
    budget: { calls: [], sequential: 0 },
  },
  {
    route: 'GET /notes',
    arrange: async () => {
      const account = await signedIn()
      await createNote(account)
      return { path: '/notes', init: authInit(account.accessToken) }
    },
    status: 200,
    budget: { calls: ['d1.first', 'd1.all'], sequential: 2 },
  },
  {
    route: 'POST /notes',
    arrange: async () => ({
      path: '/notes',
      init: jsonInit('POST', { title: 't', body: 'b' }, (await signedIn()).accessToken),
    }),
    status: 201,
    budget: { calls: ['d1.first', 'd1.first'], sequential: 2 },
  },
  {
    route: 'GET /notes/:id',
    arrange: async () => {
      const account = await signedIn()
      return { path: `/notes/${await createNote(account)}`, init: authInit(account.accessToken) }
    },
    status: 200,
    budget: { calls: ['d1.first', 'd1.first'], sequential: 2 },
  },
  {
    route: 'PATCH /notes/:id',
    arrange: async () => {
      const account = await signedIn()
      return {
        path: `/notes/${await createNote(account)}`,
        init: jsonInit('PATCH', { title: 'retitled' }, account.accessToken),
      }
    },
    status: 200,
    budget: { calls: ['d1.first', 'd1.first'], sequential: 2 },
  },
  {
    route: 'DELETE /notes/:id',
    arrange: async () => {
      const account = await signedIn()
      return {
        path: `/notes/${await createNote(account)}`,
        init: authInit(account.accessToken, 'DELETE'),
      }
    },
    status: 204,
    budget: { calls: ['d1.first', 'd1.run'], sequential: 2 },
  },
]

describe('storage round trips per route', () => {
  it.each(CASES)('$route stays within its round trips', async ({ arrange, status, budget }) => {
    const { path, init } = await arrange()
    const storage = new FaultyStorage()
    const res = await storage.fetch(path, init)
    expect(res.status, await res.text()).toBe(status)
    expect({
      calls: storage.callsBeforeResponse,
      sequential: storage.sequentialRoundTrips,
      afterResponse: storage.callsAfterResponse,
    }).toEqual({ afterResponse: [], ...budget })
  })
})

describe('the round-trip counter', () => {
  it('counts reads made at once as one sequential round trip', async () => {
    // Login reads the lockout counter and the user together: two calls, one wait.
    const account = await signedIn()
    const storage = new FaultyStorage()
    const res = await storage.fetch(
      '/auth/login',
      jsonInit('POST', { email: account.email, password: PASSWORD })
    )
    expect(res.status).toBe(200)
    expect(storage.depths.slice(0, 2)).toEqual([1, 1])
    expect(storage.calls.length).toBeGreaterThan(storage.sequentialRoundTrips)
  })

  it('sees a call that fails like any other', async () => {
    const storage = new FaultyStorage({ failAt: 1 })
    const account = await signedIn()
    await expectError(
      await storage.fetch('/me', authInit(account.accessToken)),
      503,
      'service_unavailable'
    )
    expect(storage.calls).toEqual(['d1.first'])
  })
})
