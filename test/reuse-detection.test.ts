/** Refresh-token rotation under replay and races: the grace window, reuse detection, KV writes. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { loginUser, registerUser } from './helpers/accounts'
import type { TokenResponseBody } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { api, expectError, apiWithEnv } from './helpers/requests'
import {
  refresh,
  expectSessionAlive,
  expectSessionEnded,
  listSessions,
  refreshKeyOf,
  refreshRecords,
  rotate,
  sessionIdOf,
  tokensOf,
} from './helpers/sessions'
import { Barrier, d1PausingAfterRead } from './helpers/storage-faults'

const GRACE_MS = Number(env.REFRESH_REUSE_GRACE) * 1000

const sessionRow = (id: string) =>
  env.DB.prepare('SELECT revoked_at FROM sessions WHERE id = ?1')
    .bind(id)
    .first<{ revoked_at: number | null }>()

describe('POST /auth/refresh: reuse after the grace window', () => {
  it('ends the whole session: the newest refresh token and every access token of it stop working', async () => {
    const start = pinClock()
    const account = await registerUser()
    const other = await loginUser(account.email, account.password)
    const second = await rotate(account.refreshToken)
    setClock(start + 60_000)
    const third = await rotate(second.refreshToken)
    setClock(start + 60_000 + GRACE_MS)

    // The first token, two generations back, is replayed: taken as theft.
    const replay = await expectError(
      await refresh(account.refreshToken),
      401,
      'invalid_refresh_token'
    )
    expect(replay.message).toMatch(/ended/)

    await expectSessionEnded(third)
    for (const accessToken of [account.accessToken, second.accessToken]) {
      await expectError(await api('/me', { token: accessToken }), 401, 'token_revoked')
    }
    expect((await sessionRow(sessionIdOf(third.accessToken)))?.revoked_at).toBe(
      Math.floor(Date.now() / 1000)
    )
    // Only that session: another login of the same user is untouched.
    const survivor = await expectSessionAlive(other)
    expect((await listSessions(survivor.accessToken)).map((session) => session.id)).toEqual([
      sessionIdOf(other.accessToken),
    ])
  })

  it('ends the session when the token just rotated away comes back exactly when the window closes', async () => {
    const start = pinClock()
    const account = await registerUser()
    const next = await rotate(account.refreshToken)
    setClock(start + GRACE_MS)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
    await expectSessionEnded(next)
  })

  it('answers a replay of a token of an already ended session with 401 and no 5xx', async () => {
    const start = pinClock()
    const account = await registerUser()
    await rotate(account.refreshToken)
    setClock(start + GRACE_MS + 1000)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
  })
})

describe('POST /auth/refresh: inside the grace window', () => {
  it('returns the identical successor to a replay of the rotated token and revokes nothing', async () => {
    const start = pinClock()
    const account = await registerUser()
    const first = await rotate(account.refreshToken)
    setClock(start + GRACE_MS - 1)

    const res = await refresh(account.refreshToken)
    expect(res.status).toBe(200)
    const again = (await res.json()) as TokenResponseBody
    expect(again.refresh_token).toBe(first.refreshToken)
    expect(again.refresh_expires_in).toBe(Number(env.REFRESH_TOKEN_TTL) - (GRACE_MS - 1000) / 1000)
    expect(sessionIdOf(again.access_token)).toBe(sessionIdOf(first.accessToken))

    // Every access token of the session still works, and the chain goes on from the successor.
    for (const accessToken of [account.accessToken, first.accessToken, again.access_token]) {
      expect((await api('/me', { token: accessToken })).status).toBe(200)
    }
    expect((await sessionRow(sessionIdOf(first.accessToken)))?.revoked_at).toBeNull()
    await expectSessionAlive(tokensOf(again))
  })

  it('does not honour a token two generations back, even inside the window', async () => {
    pinClock()
    const account = await registerUser()
    const second = await rotate(account.refreshToken)
    const third = await rotate(second.refreshToken)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
    await expectSessionEnded(third)
  })
})

describe('POST /auth/refresh: REFRESH_REUSE_GRACE', () => {
  const refreshWith = (grace: string, refreshToken: string) =>
    apiWithEnv({ REFRESH_REUSE_GRACE: grace }, '/auth/refresh', {
      json: { refresh_token: refreshToken },
    })

  it('with 0 there is no window: an immediate replay ends the session', async () => {
    pinClock()
    const account = await registerUser()
    const res = await refreshWith('0', account.refreshToken)
    expect(res.status).toBe(200)
    const next = tokensOf(await res.json())
    await expectError(await refreshWith('0', account.refreshToken), 401, 'invalid_refresh_token')
    await expectSessionEnded(next)
  })

  it('with 3 a replay just under 3 s later gets the successor and one at 3 s ends the session', async () => {
    const start = pinClock()
    const account = await registerUser()
    const res = await refreshWith('3', account.refreshToken)
    const next = tokensOf(await res.json())
    setClock(start + 2_999)
    const again = await refreshWith('3', account.refreshToken)
    expect(again.status).toBe(200)
    expect(((await again.json()) as TokenResponseBody).refresh_token).toBe(next.refreshToken)
    setClock(start + 3_000)
    await expectError(await refreshWith('3', account.refreshToken), 401, 'invalid_refresh_token')
    await expectSessionEnded(next)
  })

  it('refuses a grace above 10 s as a misconfiguration (500), not a silent default', async () => {
    const account = await registerUser()
    await expectError(await refreshWith('11', account.refreshToken), 500, 'server_misconfigured')
    await expectSessionAlive(account)
  })
})

/** Refreshes one token `count` times at once; checks the race left at most one live chain. */
const raceRefreshes = async (count: number, send: (refreshToken: string) => Promise<Response>) => {
  const start = pinClock()
  const account = await registerUser()
  const responses = await Promise.all(
    Array.from({ length: count }, () => send(account.refreshToken))
  )
  const bodies = await Promise.all(
    responses.map(async (res) => ({ status: res.status, body: await res.json() }))
  )

  for (const { status, body } of bodies) {
    expect(status, JSON.stringify(body)).toBeLessThan(500)
    if (status !== 200) expect(body).toMatchObject({ error: 'invalid_refresh_token' })
  }
  const won = bodies
    .filter(({ status }) => status === 200)
    .map(({ body }) => body as TokenResponseBody)
  expect(won.length).toBeGreaterThanOrEqual(1)
  // Every winner holds the same chain: one successor, handed to all of them.
  const successors = new Set(won.map((body) => body.refresh_token))
  expect(successors.size).toBe(1)

  // After the window, at most one of the returned tokens still refreshes.
  setClock(start + GRACE_MS + 1000)
  const alive = []
  for (const successor of successors) {
    if ((await refresh(successor)).status === 200) alive.push(successor)
  }
  expect(alive).toHaveLength(1)
  return { account, won }
}

/**
 * Wraps the real D1 binding so that the first `parties` reads of a session row wait for each
 * other: every request then sees the same head and races to the compare-and-swap.
 */
const racingDb = (db: D1Database, parties: number): D1Database => {
  const allRead = Barrier.releasedWhenFull(parties)
  return d1PausingAfterRead(db, 'sessions', () => allRead.arrive())
}

describe('POST /auth/refresh: concurrent refreshes of one token', () => {
  it('two at once: no 5xx, at least one 200, one chain afterwards', async () => {
    await raceRefreshes(2, refresh)
  })

  it('five at once: no 5xx, at least one 200, one chain afterwards', async () => {
    await raceRefreshes(5, refresh)
  })

  it('two that both read the same head before either rotates: the loser gets the winner\u2019s successor', async () => {
    const db = racingDb(env.DB, 2)
    const before = await refreshRecords()
    const { won } = await raceRefreshes(2, (refreshToken) =>
      apiWithEnv({ DB: db }, '/auth/refresh', { json: { refresh_token: refreshToken } })
    )
    expect(won).toHaveLength(2)
    // Both wrote a record for their own candidate (new keys only); only the winner's is reachable.
    const added = [...(await refreshRecords()).keys()].filter((key) => !before.has(key))
    expect(added).toContain(await refreshKeyOf(won[0].refresh_token))
    expect(added.length).toBeGreaterThanOrEqual(2)
  })
})

describe('KV write discipline', () => {
  it('a refresh adds exactly one new key and leaves the used token\u2019s record as it was', async () => {
    pinClock()
    const account = await registerUser()
    const oldKey = await refreshKeyOf(account.refreshToken)
    const before = await refreshRecords()
    expect(before.has(oldKey)).toBe(true)

    const next = await rotate(account.refreshToken)
    const after = await refreshRecords()
    const added = [...after.keys()].filter((key) => !before.has(key))
    expect(added).toEqual([await refreshKeyOf(next.refreshToken)])
    for (const [key, value] of before) expect(after.get(key)).toBe(value)

    const record = JSON.parse(after.get(added[0]) ?? '{}')
    expect(record).toEqual({
      sid: sessionIdOf(account.accessToken),
      uid: account.userId,
      exp: Math.floor(Date.now() / 1000) + Number(env.REFRESH_TOKEN_TTL),
    })
    // Only hashes are stored: no raw token appears in a key or a value.
    const everything = [...after].join('\n')
    for (const token of [account.refreshToken, next.refreshToken]) {
      expect(everything).not.toContain(token)
    }
  })

  it('a replay inside the window and a protected request write nothing to KV', async () => {
    pinClock()
    const account = await registerUser()
    const next = await rotate(account.refreshToken)
    const before = await refreshRecords()
    expect((await refresh(account.refreshToken)).status).toBe(200)
    expect((await api('/me', { token: next.accessToken })).status).toBe(200)
    expect(await refreshRecords()).toEqual(before)
  })
})
