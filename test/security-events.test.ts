/**
 * Security events: each route records its event (what is stored, what GET /auth/events shows),
 * the list pages newest first with opaque cursors and never shows another account's events, a
 * failing events table changes no answer, and the cron keeps 90 days.
 */
import { createExecutionContext, createScheduledController, env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import worker from '../src/index'
import { PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { resetPassword, resetTokenFor, verificationTokenFor, verifyEmail } from './helpers/recovery'
import { BASE_URL, callApp, callAppWith, expectError } from './helpers/requests'
import type { RequestOptions } from './helpers/requests'
import { rotate, sessionIdOf } from './helpers/sessions'
import { d1FailingOn } from './helpers/storage-faults'
import { sha256Base64Url } from './helpers/tokens'

const GRACE_MS = Number(env.REFRESH_REUSE_GRACE) * 1000
const DAY = 86_400

/** Through app.fetch with the pool's env: resolves once the event write (waitUntil) is done. */
const send = (path: string, options: RequestOptions = {}) => callApp(env, path, options)

interface StoredEvent {
  type: string
  method: string | null
  created_at: number
  ip: string | null
  user_agent: string | null
  country: string | null
  session_id: string | null
}

const storedEvents = async (userId: string): Promise<StoredEvent[]> => {
  const rows = await env.DB.prepare(
    `SELECT type, method, created_at, ip, user_agent, country, session_id
       FROM security_events WHERE user_id = ?1 ORDER BY id`
  )
    .bind(userId)
    .all<StoredEvent>()
  return rows.results
}

const allEventCount = async (): Promise<number> =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM security_events').first<{ n: number }>())?.n ?? 0

interface ListedEvent extends Omit<StoredEvent, 'created_at'> {
  created_at: string
}

interface EventPage {
  events: ListedEvent[]
  next_cursor: string | null
}

const listEvents = async (accessToken: string, cursor?: string): Promise<EventPage> => {
  const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`
  const res = await send(`/auth/events${query}`, { token: accessToken })
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('Cache-Control')).toBe('no-store')
  return res.json()
}

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  send('/auth/login', { json: { email, password }, headers })

const form = (fields: Record<string, string>): RequestOptions => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
})

const typesOf = async (userId: string) => (await storedEvents(userId)).map((event) => event.type)

describe('each route records its event', () => {
  it('login: the method, session, address, user agent and country of the request', async () => {
    const now = pinClock()
    const account = await registerUser()
    const res = await callAppWith(
      env,
      new Request(`${BASE_URL}/auth/login`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'CF-Connecting-IP': '2001:db8::7',
          // Control characters and what is past 256 characters never reach storage.
          'User-Agent': `Probe/1.0 \u0007${'x'.repeat(300)}`,
        },
        body: JSON.stringify({ email: account.email, password: account.password }),
        cf: { country: 'DE' },
      })
    )
    expect(res.status).toBe(200)
    const { access_token: accessToken } = (await res.json()) as { access_token: string }

    const expected = {
      type: 'login',
      method: 'pwd',
      ip: '2001:db8::7',
      user_agent: `Probe/1.0 ${'x'.repeat(246)}`,
      country: 'DE',
      session_id: sessionIdOf(accessToken),
    }
    expect(await storedEvents(account.userId)).toEqual([
      { ...expected, created_at: Math.floor(now / 1000) },
    ])
    expect(await listEvents(accessToken)).toEqual({
      events: [{ ...expected, created_at: new Date(now).toISOString() }],
      next_cursor: null,
    })
  })

  it('keeps neither an address that is not one nor a missing country', async () => {
    const account = await registerUser()
    const res = await login(account.email, account.password, {
      'CF-Connecting-IP': '<script>',
    })
    expect(res.status).toBe(200)
    expect(await storedEvents(account.userId)).toMatchObject([
      { type: 'login', ip: null, user_agent: null, country: null },
    ])
  })

  it('login_failed for a wrong password of an account; nothing for an unknown email', async () => {
    const account = await registerUser()
    const before = await allEventCount()
    await expectError(await login(account.email, 'wrong password!'), 401, 'invalid_credentials')
    await expectError(await login(uniqueEmail(), PASSWORD), 401, 'invalid_credentials')

    expect(await storedEvents(account.userId)).toMatchObject([
      { type: 'login_failed', method: null, session_id: null },
    ])
    expect(await allEventCount()).toBe(before + 1)
  })

  it('password_changed, naming the session that changed it', async () => {
    const account = await registerUser()
    const res = await send('/auth/password', {
      token: account.accessToken,
      json: { current_password: account.password, new_password: 'another good password' },
    })
    expect(res.status).toBe(204)
    expect(await storedEvents(account.userId)).toMatchObject([
      { type: 'password_changed', session_id: sessionIdOf(account.accessToken) },
    ])
  })

  it('password_reset and email_verified', async () => {
    const account = await registerUser()
    expect((await verifyEmail(await verificationTokenFor(account.email))).status).toBe(200)
    expect(
      (await resetPassword(await resetTokenFor(account.email), 'a new password!')).status
    ).toBe(204)
    expect(await typesOf(account.userId)).toEqual(['email_verified', 'password_reset'])
  })

  it('session_revoked by logout, by DELETE /auth/sessions/:id, by /oauth/revoke and by logout-all', async () => {
    const account = await registerUser()
    const second = (await (await login(account.email, account.password)).json()) as {
      access_token: string
      refresh_token: string
    }
    const third = (await (await login(account.email, account.password)).json()) as {
      access_token: string
    }
    const fourth = (await (await login(account.email, account.password)).json()) as {
      access_token: string
    }
    const [firstId, secondId, thirdId] = [
      account.accessToken,
      second.access_token,
      third.access_token,
    ].map(sessionIdOf)

    expect(
      (await send('/auth/logout', { method: 'POST', token: account.accessToken })).status
    ).toBe(204)
    const ended = await send(`/auth/sessions/${thirdId}`, {
      method: 'DELETE',
      token: fourth.access_token,
    })
    expect(ended.status).toBe(204)
    expect((await send('/oauth/revoke', form({ token: second.refresh_token }))).status).toBe(200)
    // A token whose session already ended ends nothing: no second event.
    expect((await send('/oauth/revoke', form({ token: second.refresh_token }))).status).toBe(200)
    const all = await send('/auth/logout-all', { method: 'POST', token: fourth.access_token })
    expect(all.status).toBe(204)

    const revoked = (await storedEvents(account.userId)).filter((e) => e.type !== 'login')
    expect(revoked.map((event) => [event.type, event.session_id])).toEqual([
      ['session_revoked', firstId],
      ['session_revoked', thirdId],
      ['session_revoked', secondId],
      ['session_revoked', null],
    ])
  })

  // The refresh token of an ended session is forgotten, so it finds no session at all; an access
  // token still verifies after its session ended, and names a session there is nothing left to end.
  it('no second session_revoked when /oauth/revoke gets the access token of a session already ended', async () => {
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    expect(
      (await send('/auth/logout', { method: 'POST', token: account.accessToken })).status
    ).toBe(204)
    expect((await send('/oauth/revoke', form({ token: account.accessToken }))).status).toBe(200)

    const revoked = (await storedEvents(account.userId)).filter((e) => e.type !== 'login')
    expect(revoked.map((event) => [event.type, event.session_id])).toEqual([
      ['session_revoked', sessionId],
    ])
  })

  it('refresh_reuse_detected, once, when a rotated-away token comes back at /auth/refresh or /oauth/token', async () => {
    const start = pinClock()
    const viaAuth = await registerUser()
    const viaOAuth = await registerUser()
    await rotate(viaAuth.refreshToken)
    await rotate(viaOAuth.refreshToken)
    setClock(start + GRACE_MS)

    await expectError(
      await send('/auth/refresh', { json: { refresh_token: viaAuth.refreshToken } }),
      401,
      'invalid_refresh_token'
    )
    // The session has ended already: a second replay reports nothing new.
    await expectError(
      await send('/auth/refresh', { json: { refresh_token: viaAuth.refreshToken } }),
      401,
      'invalid_refresh_token'
    )
    const grant = await send(
      '/oauth/token',
      form({ grant_type: 'refresh_token', refresh_token: viaOAuth.refreshToken })
    )
    expect(grant.status).toBe(400)

    for (const account of [viaAuth, viaOAuth]) {
      expect(await storedEvents(account.userId)).toMatchObject([
        { type: 'refresh_reuse_detected', session_id: sessionIdOf(account.accessToken) },
      ])
    }
  })

  it('account_deleted: the history goes, one anonymised event stays', async () => {
    const account = await registerUser()
    expect((await login(account.email, account.password)).status).toBe(200)
    const before = await allEventCount()
    const res = await send('/me', {
      method: 'DELETE',
      token: account.accessToken,
      json: { password: account.password },
      headers: { 'CF-Connecting-IP': '203.0.113.9', 'User-Agent': 'Probe/1.0' },
    })
    expect(res.status).toBe(204)

    expect(await storedEvents(account.userId)).toEqual([])
    const anonymous = `deleted:${await sha256Base64Url(account.userId)}`
    expect(await storedEvents(anonymous)).toMatchObject([
      { type: 'account_deleted', ip: null, user_agent: null, session_id: null },
    ])
    // The login went, the deletion came: nothing else was written or kept.
    expect(await allEventCount()).toBe(before)
  })
})

const insertEvents = async (userId: string, count: number, createdAt: number) => {
  const statements = Array.from({ length: count }, (_, index) =>
    env.DB.prepare(
      `INSERT INTO security_events (user_id, type, method, created_at, ip, user_agent, country, session_id)
         VALUES (?1, 'login', 'pwd', ?2, NULL, NULL, NULL, ?3)`
    ).bind(userId, createdAt + index, `session-${index}`)
  )
  await env.DB.batch(statements)
}

describe('GET /auth/events', () => {
  it('pages 120 events newest first, 50 at a time, and ends with a null cursor', async () => {
    const account = await registerUser()
    const other = await registerUser()
    const start = Math.floor(Date.now() / 1000) - 1000
    // Interleaved with another account's, which never show.
    for (let batch = 0; batch < 4; batch++) {
      await insertEvents(account.userId, 30, start + batch * 30)
      await insertEvents(other.userId, 5, start)
    }

    const first = await listEvents(account.accessToken)
    expect(first.events).toHaveLength(50)
    expect(first.next_cursor).toEqual(expect.any(String))
    const second = await listEvents(account.accessToken, first.next_cursor ?? '')
    expect(second.events).toHaveLength(50)
    const third = await listEvents(account.accessToken, second.next_cursor ?? '')
    expect(third.events).toHaveLength(20)
    expect(third.next_cursor).toBeNull()

    const sessions = [...first.events, ...second.events, ...third.events].map((e) => e.session_id)
    const expected = [3, 2, 1, 0].flatMap((_) =>
      Array.from({ length: 30 }, (__, index) => `session-${29 - index}`)
    )
    expect(sessions).toEqual(expected)
    const times = [...first.events, ...second.events, ...third.events].map((e) => e.created_at)
    expect(times).toEqual([...times].sort().reverse())
  })

  it('shows exactly 50 with a null cursor when there are 50', async () => {
    const account = await registerUser()
    await insertEvents(account.userId, 50, 1_800_000_000)
    const page = await listEvents(account.accessToken)
    expect(page.events).toHaveLength(50)
    expect(page.next_cursor).toBeNull()
  })

  it("never shows another account's events, with or without that account's cursor", async () => {
    const account = await registerUser()
    const other = await registerUser()
    await insertEvents(other.userId, 60, 1_800_000_000)
    const theirs = await listEvents(other.accessToken)
    expect(theirs.next_cursor).not.toBeNull()

    expect(await listEvents(account.accessToken)).toEqual({ events: [], next_cursor: null })
    expect(await listEvents(account.accessToken, theirs.next_cursor ?? '')).toEqual({
      events: [],
      next_cursor: null,
    })
  })

  it('refuses a cursor it did not hand out with 400 validation_failed', async () => {
    const account = await registerUser()
    // Numbers a cursor never holds, in unpadded base64url as a cursor is written (btoa's `=`
    // padding alone is refused before the number is looked at): a sign, a leading zero or a
    // space around the digits, each of which Number() would still read as an id.
    const unhanded = ['-1', '+5', ' 5', '5 ', '0123', '12a'].map((text) =>
      btoa(text).replace(/=+$/, '')
    )
    // And the padded (standard base64) spelling of a number a cursor could hold: atob reads it,
    // base64url as this service writes it has no `=`.
    const cursors = ['', 'not a cursor', 'MA', 'A'.repeat(10_000), '%00', btoa('12'), ...unhanded]
    for (const cursor of cursors) {
      const res = await send(`/auth/events?cursor=${encodeURIComponent(cursor)}`, {
        token: account.accessToken,
      })
      const body = await expectError(res, 400, 'validation_failed')
      expect(body.details, cursor).toEqual({ cursor: expect.any(String) })
    }
  })

  it('needs an access token', async () => {
    const res = await send('/auth/events')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/)
  })
})

describe('a failing events table', () => {
  const failingEvents = { ...env, DB: d1FailingOn(env.DB, /security_events/) }

  it('changes no answer of the routes that record, and the failure is logged', async () => {
    const account = await registerUser()
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const options = { json: { email: account.email, password: account.password } }
    const res = await callApp(failingEvents, '/auth/login', options)
    expect(res.status).toBe(200)
    const { access_token: accessToken } = (await res.json()) as { access_token: string }
    await expectError(
      await callApp(failingEvents, '/auth/login', { json: { ...options.json, password: 'nope!' } }),
      401,
      'invalid_credentials'
    )
    const logout = await callApp(failingEvents, '/auth/logout', {
      method: 'POST',
      token: accessToken,
    })
    expect(logout.status).toBe(204)

    expect(await storedEvents(account.userId)).toEqual([])
    const logged = warnings.mock.calls.map(([line]) => JSON.parse(String(line)) as { msg: string })
    expect(logged.filter((line) => line.msg === 'security event not recorded')).toHaveLength(3)
  })

  it('makes the list itself a 503', async () => {
    const account = await registerUser()
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await callApp(failingEvents, '/auth/events', { token: account.accessToken })
    await expectError(res, 503, 'service_unavailable')
  })
})

describe('retention', () => {
  const runCron = async () => {
    await worker.scheduled(createScheduledController(), env, createExecutionContext())
  }

  it('the daily cron deletes events older than 90 days, and only those', async () => {
    const start = pinClock()
    const account = await registerUser()
    expect((await login(account.email, account.password)).status).toBe(200)
    setClock(start + 2 * DAY * 1000)
    expect((await login(account.email, 'wrong password!')).status).toBe(401)

    setClock(start + 90 * DAY * 1000 - 1000)
    await runCron()
    expect(await typesOf(account.userId)).toEqual(['login', 'login_failed'])

    setClock(start + 90 * DAY * 1000)
    await runCron()
    expect(await typesOf(account.userId)).toEqual(['login_failed'])
  })
})
