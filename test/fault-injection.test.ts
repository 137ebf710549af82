/**
 * Failing storage: for each state-changing route, every D1 and KV call it makes is failed in turn
 * (before it lands, and after it landed but its answer was lost). The client must get 503, and
 * the store must hold either the old state or the new one, never a half-written mix.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { STORAGE_TIMEOUT_MS } from '../src/adapters/guard'
import { kvRefreshIndex } from '../src/adapters/kv/refresh-index'
import { toBase64Url, sha256Base64Url } from '../src/auth/encoding'
import { loginUser, registerUser, uniqueEmail, PASSWORD } from './helpers/accounts'
import { advanceTimeouts, fakeTimeouts } from './helpers/clock'
import { api, expectError } from './helpers/requests'
import { expectSessionEnded, refresh, rotate } from './helpers/sessions'
import { FaultyStorage } from './helpers/storage-faults'
import type { FaultMode } from './helpers/storage-faults'
import { decodeJwt } from './helpers/tokens'

const NEW_PASSWORD = 'a different passphrase'
const MODES: FaultMode[] = ['before', 'after']
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
})
const withToken = (token: string, init: RequestInit = { method: 'POST' }): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` },
})

/** Tidying KV after D1 has committed is best effort: its failure may leave the request a success. */
const isBestEffortCleanup = (call: string | undefined) => call === 'kv.delete'

const expectUnavailable = async (res: Response, context: string) => {
  const text = await res.text()
  expect(res.status, `${context}: ${text}`).toBe(503)
  expect(JSON.parse(text), context).toEqual({
    error: 'service_unavailable',
    message: expect.any(String),
  })
  expect(text, context).not.toMatch(/injected|d1|kv|sql|select|insert|update|stack/i)
  expect(res.headers.get('Retry-After'), context).toMatch(/^\d+$/)
  expect(res.headers.get('X-Content-Type-Options'), context).toBe('nosniff')
}

/** Remembers every 32-byte random value the worker draws: the raw refresh tokens among them. */
const recordRandomTokens = (): string[] => {
  const drawn: string[] = []
  const original = crypto.getRandomValues.bind(crypto)
  vi.spyOn(crypto, 'getRandomValues').mockImplementation((array: ArrayBufferView) => {
    const filled = original(array as Uint8Array)
    if (filled instanceof Uint8Array && filled.length === 32) drawn.push(toBase64Url(filled))
    return filled
  })
  return drawn
}

interface SessionState {
  id: string
  refresh_hash: string
  revoked_at: number | null
}

const sessionsOf = async (userId: string): Promise<SessionState[]> =>
  (
    await env.DB.prepare(
      'SELECT id, refresh_hash, revoked_at FROM sessions WHERE user_id = ?1 ORDER BY created_at, id'
    )
      .bind(userId)
      .all<SessionState>()
  ).results

const liveSessionsOf = async (userId: string) =>
  (await sessionsOf(userId)).filter((s) => s.revoked_at === null)

const userByEmail = (email: string) =>
  env.DB.prepare('SELECT id, password_hash FROM users WHERE email = ?1')
    .bind(email)
    .first<{ id: string; password_hash: string }>()

const countNotes = async (userId: string) =>
  (
    await env.DB.prepare('SELECT COUNT(*) AS n FROM notes WHERE user_id = ?1')
      .bind(userId)
      .first<{ n: number }>()
  )?.n

/** A live session is only usable if KV still maps its current refresh token to it. */
const expectSessionsUsable = async (userId: string, context: string) => {
  for (const session of await liveSessionsOf(userId)) {
    const record = await kvRefreshIndex(env.REFRESH_TOKENS).get(session.refresh_hash)
    expect(record, `${context}: KV record of live session ${session.id}`).toMatchObject({
      sid: session.id,
      uid: userId,
    })
  }
}

/**
 * The KV records the failed request wrote that are not, right after it, their session's current
 * token, with the raw tokens found among the random values the worker drew.
 */
const strayRecords = async (
  storage: FaultyStorage,
  drawn: string[],
  context: string
): Promise<string[]> => {
  const strays: string[] = []
  for (const key of storage.kvKeysWritten) {
    const record = await env.REFRESH_TOKENS.get<{ sid: string }>(key, 'json')
    if (!record) continue
    const session = await env.DB.prepare('SELECT refresh_hash FROM sessions WHERE id = ?1')
      .bind(record.sid)
      .first<{ refresh_hash: string }>()
    if (session && key.endsWith(session.refresh_hash)) continue
    let token: string | undefined
    for (const candidate of drawn) {
      if (key.endsWith(await sha256Base64Url(candidate))) token = candidate
    }
    expect(token, `${context}: raw token of stray record ${key}`).toBeDefined()
    strays.push(token!)
  }
  return strays
}

/** Run last: presenting a stray token of a live chain counts as theft and ends that session. */
const expectStraysUnusable = async (strays: string[]) => {
  for (const token of strays) await expectError(await refresh(token), 401, 'invalid_refresh_token')
}

interface Scenario<S> {
  setup: () => Promise<S>
  act: (storage: FaultyStorage, state: S) => Promise<Response>
  success: number
  /** Checks the store after the failed request; `context` names the failure for messages. */
  check: (state: S, storage: FaultyStorage, context: string) => Promise<void>
}

/** Runs the scenario once to count its storage calls, then once per call and mode with that call failing. */
const sweep = async <S>(scenario: Scenario<S>): Promise<string[]> => {
  const clean = new FaultyStorage()
  const cleanRes = await scenario.act(clean, await scenario.setup())
  expect(cleanRes.status, await cleanRes.clone().text()).toBe(scenario.success)
  const swept: string[] = []
  for (let failAt = 1; failAt <= clean.calls.length; failAt++) {
    for (const mode of MODES) {
      // Losing a read's answer after it ran is the same as it failing before.
      if (mode === 'after' && clean.reads[failAt - 1]) continue
      const state = await scenario.setup()
      const drawn = recordRandomTokens()
      const storage = new FaultyStorage({ failAt, mode })
      const res = await scenario.act(storage, state)
      vi.restoreAllMocks()
      const context = `call ${failAt} (${storage.failedCall}) failing ${mode}`
      swept.push(`${storage.failedCall}:${mode}`)
      if (storage.failedAfterResponse) {
        // Work after the response (a security event) cannot change the answer.
        expect(res.status, context).toBe(scenario.success)
      } else if (!(isBestEffortCleanup(storage.failedCall) && res.status === scenario.success)) {
        await expectUnavailable(res, context)
      }
      const strays = await strayRecords(storage, drawn, context)
      await scenario.check(state, storage, context)
      await expectStraysUnusable(strays)
    }
  }
  return swept
}

// Each sweep runs a route a dozen times or more, with a password derivation in most runs.
describe('storage failures mid-request', { timeout: 120_000 }, () => {
  it('POST /auth/register leaves either no account or an account with a usable session', async () => {
    const swept = await sweep({
      setup: async () => ({ email: uniqueEmail() }),
      act: (storage, { email }) =>
        storage.fetch('/auth/register', json({ email, password: PASSWORD })),
      success: 201,
      check: async ({ email }, _storage, context) => {
        const user = await userByEmail(email)
        if (!user) {
          expect(
            (await api('/auth/register', { json: { email, password: PASSWORD } })).status,
            context
          ).toBe(201)
          return
        }
        expect(await liveSessionsOf(user.id), context).toHaveLength(1)
        await expectSessionsUsable(user.id, context)
        await loginUser(email, PASSWORD)
      },
    })
    expect(swept).toEqual(
      expect.arrayContaining(['kv.put:before', 'd1.batch:before', 'd1.batch:after'])
    )
  })

  it('POST /auth/login leaves only usable sessions and counts at most the one attempt whose outcome was lost', async () => {
    await sweep({
      setup: () => registerUser(),
      act: (storage, account) =>
        storage.fetch('/auth/login', json({ email: account.email, password: PASSWORD })),
      success: 200,
      check: async (account, _storage, context) => {
        const sessions = await liveSessionsOf(account.userId)
        expect(sessions.length, context).toBeGreaterThanOrEqual(1)
        expect(sessions.length, context).toBeLessThanOrEqual(2)
        await expectSessionsUsable(account.userId, context)
        const row = await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
          .bind(account.email)
          .first<{ failures: number }>()
        // The attempt took its place before hashing; a right password gives it back once the
        // session is stored, so only an attempt cut off before that stays counted (fail closed).
        expect(row?.failures ?? 0, context).toBeLessThanOrEqual(1)
      },
    })
  })

  it('POST /auth/refresh leaves the old token working (or yielding its successor) and one live chain', async () => {
    const swept = await sweep({
      setup: () => registerUser(),
      act: (storage, account) =>
        storage.fetch('/auth/refresh', json({ refresh_token: account.refreshToken })),
      success: 200,
      check: async (account, _storage, context) => {
        const [session] = await sessionsOf(account.userId)
        expect(await liveSessionsOf(account.userId), context).toEqual([session])
        // The client saw a 503 and retries with the token it holds, within the grace window.
        const retry = await refresh(account.refreshToken)
        expect(retry.status, `${context}: ${await retry.clone().text()}`).toBe(200)
        const next = (await retry.json<{ refresh_token: string }>()).refresh_token
        const [after] = await liveSessionsOf(account.userId)
        expect(after.id, context).toBe(session.id)
        expect(after.refresh_hash, context).toBe(await sha256Base64Url(next))
        await expectSessionsUsable(account.userId, context)
        expect((await refresh(next)).status, context).toBe(200)
        expect(await liveSessionsOf(account.userId), context).toHaveLength(1)
      },
    })
    expect(swept).toEqual(expect.arrayContaining(['kv.put:before', 'kv.put:after', 'd1.run:after']))
  })

  it('POST /auth/refresh with a replayed token ends the session, or answers 503 and the retry ends it', async () => {
    // A token two generations back is a replay whatever the clock says: the theft path.
    const swept = await sweep({
      setup: async () => {
        const account = await registerUser()
        const first = await rotate(account.refreshToken)
        return { stolen: account.refreshToken, live: await rotate(first.refreshToken) }
      },
      act: (storage, { stolen }) => storage.fetch('/auth/refresh', json({ refresh_token: stolen })),
      success: 401,
      check: async ({ stolen, live }, _storage, context) => {
        const retry = await refresh(stolen)
        expect(retry.status, `${context}: ${await retry.clone().text()}`).toBe(401)
        await expectSessionEnded(live)
      },
    })
    expect(swept).toEqual(expect.arrayContaining(['d1.run:before', 'd1.run:after']))
  })

  it('POST /auth/logout either ends the session or leaves it whole', async () => {
    await sweep({
      setup: () => registerUser(),
      act: (storage, account) => storage.fetch('/auth/logout', withToken(account.accessToken)),
      success: 204,
      check: async (account, _storage, context) => {
        const [session] = await sessionsOf(account.userId)
        if (session.revoked_at !== null) {
          await expectError(await api('/me', { token: account.accessToken }), 401, 'token_revoked')
          await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
          return
        }
        await expectSessionsUsable(account.userId, context)
        expect(
          (await api('/auth/logout', { method: 'POST', token: account.accessToken })).status,
          context
        ).toBe(204)
      },
    })
  })

  it('POST /auth/password changes the password and ends other sessions together, or neither', async () => {
    await sweep({
      setup: async () => {
        const other = await registerUser()
        const current = await loginUser(other.email, PASSWORD)
        const before = await userByEmail(other.email)
        return { other, current, hashBefore: before?.password_hash }
      },
      act: (storage, { current }) =>
        storage.fetch(
          '/auth/password',
          withToken(
            current.accessToken,
            json({ current_password: PASSWORD, new_password: NEW_PASSWORD })
          )
        ),
      success: 204,
      check: async ({ other, current, hashBefore }, _storage, context) => {
        const user = await userByEmail(other.email)
        const changed = user?.password_hash !== hashBefore
        const live = (await liveSessionsOf(other.userId)).map((s) => s.id)
        await expectSessionsUsable(other.userId, context)
        if (changed) {
          expect(live, context).toEqual([decodeJwt(current.accessToken).payload.sid])
          await expectError(await api('/me', { token: other.accessToken }), 401, 'token_revoked')
          expect((await api('/me', { token: current.accessToken })).status, context).toBe(200)
        } else {
          expect(live, context).toHaveLength(2)
          expect((await api('/me', { token: other.accessToken })).status, context).toBe(200)
        }
      },
    })
  })

  it('DELETE /me removes the account with its notes and sessions entirely, or not at all', async () => {
    await sweep({
      setup: async () => {
        const account = await registerUser()
        const note = await api('/notes', {
          token: account.accessToken,
          json: { title: 'kept?', body: 'b' },
        })
        expect(note.status).toBe(201)
        return account
      },
      act: (storage, account) =>
        storage.fetch(
          '/me',
          withToken(account.accessToken, { ...json({ password: PASSWORD }), method: 'DELETE' })
        ),
      success: 204,
      check: async (account, _storage, context) => {
        const user = await userByEmail(account.email)
        const sessions = await sessionsOf(account.userId)
        if (user) {
          expect(await countNotes(account.userId), context).toBe(1)
          expect(
            sessions.filter((s) => s.revoked_at === null),
            context
          ).toHaveLength(1)
          await expectSessionsUsable(account.userId, context)
          expect((await api('/me', { token: account.accessToken })).status, context).toBe(200)
          return
        }
        expect(await countNotes(account.userId), context).toBe(0)
        expect(sessions, context).toEqual([])
        await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
        await expectError(await api('/me', { token: account.accessToken }), 401, 'token_revoked')
      },
    })
  })

  it('POST /notes stores the note whole or not at all', async () => {
    await sweep({
      setup: () => registerUser(),
      act: (storage, account) =>
        storage.fetch(
          '/notes',
          withToken(account.accessToken, json({ title: 'title', body: 'body' }))
        ),
      success: 201,
      check: async (account, _storage, context) => {
        expect([0, 1], context).toContain(await countNotes(account.userId))
        const list = await api('/notes', { token: account.accessToken })
        expect(list.status, context).toBe(200)
      },
    })
  })
})

describe('storage failures on the remaining routes', () => {
  it(
    'every other route answers 503, never another 5xx, whichever of its storage calls fails',
    { timeout: 120_000 },
    async () => {
      const account = await registerUser()
      const noteRes = await api('/notes', {
        token: account.accessToken,
        json: { title: 't', body: 'b' },
      })
      const noteId = (await noteRes.json<{ note: { id: string } }>()).note.id
      const auth = (init: RequestInit = {}) =>
        withToken(account.accessToken, { method: 'GET', ...init })
      const requests: [string, string, () => RequestInit][] = [
        ['GET', '/me', () => auth()],
        ['PATCH', '/me', () => auth({ ...json({ nickname: 'Ada' }), method: 'PATCH' })],
        ['GET', '/notes', () => auth()],
        ['GET', `/notes/${noteId}`, () => auth()],
        ['PATCH', `/notes/${noteId}`, () => auth({ ...json({ title: 'new' }), method: 'PATCH' })],
        ['DELETE', `/notes/${crypto.randomUUID()}`, () => auth({ method: 'DELETE' })],
        ['GET', '/auth/sessions', () => auth()],
        ['DELETE', `/auth/sessions/${crypto.randomUUID()}`, () => auth({ method: 'DELETE' })],
      ]
      const checked: string[] = []
      for (const [method, path, init] of requests) {
        const clean = new FaultyStorage()
        const cleanRes = await clean.fetch(path, init())
        expect(cleanRes.status, `${method} ${path}`).toBeLessThan(500)
        for (let failAt = 1; failAt <= clean.calls.length; failAt++) {
          const storage = new FaultyStorage({ failAt })
          const res = await storage.fetch(path, init())
          const context = `${method} ${path}, call ${failAt} (${storage.failedCall}) failing`
          if (isBestEffortCleanup(storage.failedCall) && res.status === cleanRes.status) continue
          await expectUnavailable(res, context)
          checked.push(context)
        }
      }
      expect(checked.length).toBeGreaterThanOrEqual(requests.length)
    }
  )
})

describe('storage that never answers', () => {
  for (const [call, failAt] of [
    ['a D1 read', 1],
    ['a KV write', 2],
    ['the D1 commit', 3],
  ] as const) {
    it(`POST /auth/register answers 503 after ${STORAGE_TIMEOUT_MS} ms when ${call} hangs`, async () => {
      fakeTimeouts()
      const email = uniqueEmail()
      const storage = new FaultyStorage({ failAt, mode: 'hang' })
      let settled = false
      const pending = storage
        .fetch('/auth/register', json({ email, password: PASSWORD }))
        .finally(() => {
          settled = true
        })
      await storage.reached

      await advanceTimeouts(STORAGE_TIMEOUT_MS - 1)
      expect(settled).toBe(false)
      await advanceTimeouts(1)

      await expectUnavailable(await pending, call)
      expect(await userByEmail(email)).toBeNull()
    })
  }
})
