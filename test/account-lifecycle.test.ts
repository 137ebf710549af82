/** Password change and account deletion: which sessions they end, and what they leave behind. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { hashPassword } from '../src/auth/password'
import { loginUser, registerUser, login } from './helpers/accounts'
import { pinClock } from './helpers/clock'
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
} from './helpers/sessions'
import type { SessionTokens } from './helpers/sessions'
import { d1PausingAfterRead } from './helpers/storage-faults'

const NEW_PASSWORD = 'a brand new passphrase'

/** One user with three sessions (register and two logins) and another user with one. */
const twoUsers = async () => {
  const owner = await registerUser()
  const laptop = await loginUser(owner.email, owner.password)
  const phone = await loginUser(owner.email, owner.password)
  const stranger = await registerUser()
  return { owner, laptop, phone, stranger }
}

const changePassword = (token: string, body: unknown) =>
  api('/auth/password', { token, json: body })
const deleteMe = (token: string, body: unknown) =>
  api('/me', { method: 'DELETE', token, json: body })

const addNote = async (token: string, title: string) => {
  const res = await api('/notes', { token, json: { title, body: 'text' } })
  expect(res.status).toBe(201)
}

const rowsOf = async (userId: string) => {
  const count = (sql: string) =>
    env.DB.prepare(sql)
      .bind(userId)
      .first<{ n: number }>()
      .then((row) => row?.n)
  return {
    users: await count('SELECT COUNT(*) AS n FROM users WHERE id = ?1'),
    sessions: await count('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1'),
    notes: await count('SELECT COUNT(*) AS n FROM notes WHERE user_id = ?1'),
  }
}

describe('POST /auth/password', () => {
  it('ends every other session of the user; the current one keeps both tokens working', async () => {
    const { owner, laptop, phone, stranger } = await twoUsers()
    const res = await changePassword(laptop.accessToken, {
      current_password: owner.password,
      new_password: NEW_PASSWORD,
    })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')

    await expectSessionEnded(owner)
    await expectSessionEnded(phone)
    const current = await expectSessionAlive(laptop)
    expect((await listSessions(current.accessToken)).map((session) => session.id)).toEqual([
      sessionIdOf(laptop.accessToken),
    ])
    await expectSessionAlive(stranger)
  })

  it('makes the new password the one that logs in, and the old one fail', async () => {
    const account = await registerUser()
    const res = await changePassword(account.accessToken, {
      current_password: account.password,
      new_password: NEW_PASSWORD,
    })
    expect(res.status).toBe(204)
    await expectError(await login(account.email, account.password), 401, 'invalid_credentials')
    expect((await login(account.email, NEW_PASSWORD)).status).toBe(200)
  })

  it('answers a wrong current password with 403 invalid_credentials and changes nothing', async () => {
    const { owner, laptop } = await twoUsers()
    await expectError(
      await changePassword(laptop.accessToken, {
        current_password: 'not the password',
        new_password: NEW_PASSWORD,
      }),
      403,
      'invalid_credentials'
    )
    await expectSessionAlive(owner)
    await expectSessionAlive(laptop)
    expect((await login(owner.email, owner.password)).status).toBe(200)
  })

  it('answers a too short new password with 400 validation_failed and ends nothing', async () => {
    const { owner, laptop } = await twoUsers()
    const error = await expectError(
      await changePassword(laptop.accessToken, {
        current_password: owner.password,
        new_password: 'short',
      }),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['new_password'])
    await expectSessionAlive(owner)
  })

  it('answers 401 missing_token without a token and token_revoked from an ended session', async () => {
    const { owner, laptop } = await twoUsers()
    const body = { current_password: owner.password, new_password: NEW_PASSWORD }
    await expectError(await api('/auth/password', { json: body }), 401, 'missing_token')
    expect((await api('/auth/logout', { method: 'POST', token: laptop.accessToken })).status).toBe(
      204
    )
    await expectError(await changePassword(laptop.accessToken, body), 401, 'token_revoked')
    expect((await login(owner.email, owner.password)).status).toBe(200)
  })
})

/**
 * Wraps the real D1 binding so that right after the first read of a user row, `meanwhile` runs:
 * another request's write landing between the password check and the swap.
 */
const dbWithWriteAfterUserRead = (
  db: D1Database,
  meanwhile: () => Promise<unknown>
): D1Database => {
  let fired = false
  return d1PausingAfterRead(db, 'users', async () => {
    if (fired) return
    fired = true
    await meanwhile()
  })
}

const setStoredHash = async (userId: string, password: string) => {
  const hash = await hashPassword(password)
  await env.DB.prepare('UPDATE users SET password_hash = ?2 WHERE id = ?1').bind(userId, hash).run()
}

describe('POST /auth/password racing another write of the hash', () => {
  it('still changes the password when a rehash of the same password lands in between', async () => {
    const { owner, laptop, phone } = await twoUsers()
    const db = dbWithWriteAfterUserRead(env.DB, () => setStoredHash(owner.userId, owner.password))
    const res = await apiWithEnv({ DB: db }, '/auth/password', {
      token: laptop.accessToken,
      json: { current_password: owner.password, new_password: NEW_PASSWORD },
    })
    expect(res.status, await res.text()).toBe(204)
    expect((await login(owner.email, NEW_PASSWORD)).status).toBe(200)
    await expectSessionEnded(phone)
    await expectSessionAlive(laptop)
  })

  it('answers 403 and ends nothing when a change to another password lands in between', async () => {
    const { owner, laptop, phone } = await twoUsers()
    const db = dbWithWriteAfterUserRead(env.DB, () =>
      setStoredHash(owner.userId, 'changed elsewhere meanwhile')
    )
    await expectError(
      await apiWithEnv({ DB: db }, '/auth/password', {
        token: laptop.accessToken,
        json: { current_password: owner.password, new_password: NEW_PASSWORD },
      }),
      403,
      'invalid_credentials'
    )
    expect((await login(owner.email, 'changed elsewhere meanwhile')).status).toBe(200)
    await expectError(await login(owner.email, NEW_PASSWORD), 401, 'invalid_credentials')
    await expectSessionAlive(phone)
    await expectSessionAlive(laptop)
  })
})

describe('DELETE /me', () => {
  it('removes the user, their notes and sessions from D1 and ends every session of theirs', async () => {
    const { owner, laptop, phone, stranger } = await twoUsers()
    await addNote(owner.accessToken, 'mine')
    await addNote(stranger.accessToken, 'theirs')
    const rotated = await rotate(phone.refreshToken)

    const res = await deleteMe(laptop.accessToken, { password: owner.password })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')

    expect(await rowsOf(owner.userId)).toEqual({ users: 0, sessions: 0, notes: 0 })
    for (const tokens of [owner, laptop, rotated] satisfies SessionTokens[]) {
      await expectSessionEnded(tokens)
    }
    await expectError(await api('/me', { token: phone.accessToken }), 401, 'token_revoked')
    await expectError(await login(owner.email, owner.password), 401, 'invalid_credentials')

    // The other user keeps their account, notes and session.
    expect(await rowsOf(stranger.userId)).toEqual({ users: 1, sessions: 1, notes: 1 })
    await expectSessionAlive(stranger)
  })

  it('leaves in KV no record of a live token, only rotated-away ones of sessions that are gone', async () => {
    pinClock()
    const { owner, laptop, phone } = await twoUsers()
    const rotated = await rotate(phone.refreshToken)
    expect((await deleteMe(owner.accessToken, { password: owner.password })).status).toBe(204)

    const leftovers = [...(await refreshRecords())]
      .map(([key, value]) => ({
        key,
        record: JSON.parse(value) as { sid: string; uid: string; exp: number },
      }))
      .filter(({ record }) => record.uid === owner.userId)
    const heads = [owner.refreshToken, laptop.refreshToken, rotated.refreshToken]
    const headKeys = await Promise.all(heads.map(refreshKeyOf))
    expect(leftovers.map(({ key }) => key).filter((key) => headKeys.includes(key))).toEqual([])
    // What is left waits for its TTL and names a session that no longer exists.
    expect(leftovers.map(({ key }) => key)).toEqual([await refreshKeyOf(phone.refreshToken)])
    for (const { record } of leftovers) {
      const session = await env.DB.prepare('SELECT id FROM sessions WHERE id = ?1')
        .bind(record.sid)
        .first()
      expect(session).toBeNull()
    }
    await expectError(await refresh(phone.refreshToken), 401, 'invalid_refresh_token')
  })

  it('lets the email register again afterwards, as a new user with no old sessions', async () => {
    const account = await registerUser()
    expect((await deleteMe(account.accessToken, { password: account.password })).status).toBe(204)
    const again = await registerUser({ email: account.email })
    expect(again.userId).not.toBe(account.userId)
    expect(await listSessions(again.accessToken)).toHaveLength(1)
    await expectSessionEnded(account)
  })

  it('answers a wrong password with 403 invalid_credentials and keeps everything', async () => {
    const { owner, laptop } = await twoUsers()
    await addNote(owner.accessToken, 'kept')
    await expectError(
      await deleteMe(laptop.accessToken, { password: 'not the password' }),
      403,
      'invalid_credentials'
    )
    expect(await rowsOf(owner.userId)).toEqual({ users: 1, sessions: 3, notes: 1 })
    await expectSessionAlive(owner)
    await expectSessionAlive(laptop)
  })

  it('answers a missing password with 400 validation_failed and keeps everything', async () => {
    const account = await registerUser()
    const error = await expectError(
      await deleteMe(account.accessToken, {}),
      400,
      'validation_failed'
    )
    expect(Object.keys(error.details ?? {})).toEqual(['password'])
    expect(await rowsOf(account.userId)).toEqual({ users: 1, sessions: 1, notes: 0 })
  })

  it('answers 401 missing_token without a token and token_revoked from an ended session', async () => {
    const { owner, laptop } = await twoUsers()
    await expectError(
      await api('/me', { method: 'DELETE', json: { password: owner.password } }),
      401,
      'missing_token'
    )
    expect((await api('/auth/logout', { method: 'POST', token: laptop.accessToken })).status).toBe(
      204
    )
    await expectError(
      await deleteMe(laptop.accessToken, { password: owner.password }),
      401,
      'token_revoked'
    )
    expect(await rowsOf(owner.userId)).toMatchObject({ users: 1, sessions: 3 })
  })
})
