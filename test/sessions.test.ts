/** The session endpoints: listing, ending one, logout and logout-all, as a client observes them. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { expectTokenResponse, loginUser, registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { api, expectError } from './helpers/requests'
import {
  expectSessionAlive,
  expectSessionEnded,
  listSessions,
  refresh,
  rotate,
  sessionIdOf,
} from './helpers/sessions'
import type { SessionTokens } from './helpers/sessions'

/** One user with three sessions (register and two logins) and another user with one. */
const twoUsers = async () => {
  const owner = await registerUser()
  const laptop = await loginUser(owner.email, owner.password, { 'User-Agent': 'laptop/1.0' })
  const phone = await loginUser(owner.email, owner.password, { 'User-Agent': 'phone/2.0' })
  const stranger = await registerUser()
  return { owner, laptop, phone, stranger }
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('GET /auth/sessions', () => {
  it('lists the caller\u2019s live sessions with the contract fields, exactly one of them current', async () => {
    const start = pinClock()
    const { owner, laptop, phone, stranger } = await twoUsers()
    const sessions = await listSessions(laptop.accessToken)

    expect(sessions.map((session) => session.id).sort()).toEqual(
      [owner, laptop, phone].map((account) => sessionIdOf(account.accessToken)).sort()
    )
    expect(sessions.map((session) => session.id)).not.toContain(sessionIdOf(stranger.accessToken))
    for (const session of sessions) {
      expect(Object.keys(session).sort()).toEqual(
        ['created_at', 'current', 'expires_at', 'id', 'last_used_at', 'user_agent'].sort()
      )
      expect(session.created_at).toMatch(ISO_TIMESTAMP)
      expect(session.created_at).toBe(new Date(start).toISOString())
      expect(session.last_used_at).toBe(session.created_at)
      expect(Date.parse(session.expires_at) - start).toBe(Number(env.REFRESH_TOKEN_TTL) * 1000)
    }
    const current = sessions.filter((session) => session.current)
    expect(current).toHaveLength(1)
    expect(current[0].id).toBe(sessionIdOf(laptop.accessToken))
    expect(current[0].user_agent).toBe('laptop/1.0')
    expect(
      sessions.find((session) => session.id === sessionIdOf(phone.accessToken))?.user_agent
    ).toBe('phone/2.0')
    // The same list seen from another session marks that one instead.
    // Registered without a User-Agent header: listed as null, not as an empty string.
    expect(
      sessions.find((session) => session.id === sessionIdOf(owner.accessToken))?.user_agent
    ).toBeNull()
    const fromPhone = await listSessions(phone.accessToken)
    expect(fromPhone.filter((session) => session.current).map((session) => session.id)).toEqual([
      sessionIdOf(phone.accessToken),
    ])
  })

  it('moves last_used_at and expires_at forward when the session is refreshed', async () => {
    const start = pinClock()
    const account = await registerUser()
    setClock(start + 120_000)
    const rotated = await rotate(account.refreshToken)
    const [session] = await listSessions(rotated.accessToken)
    expect(session.created_at).toBe(new Date(start).toISOString())
    expect(session.last_used_at).toBe(new Date(start + 120_000).toISOString())
    expect(Date.parse(session.expires_at)).toBe(
      start + 120_000 + Number(env.REFRESH_TOKEN_TTL) * 1000
    )
  })

  it('stores the user agent printable and truncated to 256 characters', async () => {
    const owner = await registerUser()
    const long = `Mozilla/5.0 ${'x'.repeat(1000)}`
    const verbose = await loginUser(owner.email, owner.password, { 'User-Agent': long })
    // A tab and a Latin-1 letter: both allowed in a header, neither printable ASCII.
    const odd = await loginUser(owner.email, owner.password, {
      'User-Agent': '\tcaf\u00e9\tclient/1 ',
    })

    const sessions = await listSessions(owner.accessToken)
    const agentOf = (account: Account) =>
      sessions.find((session) => session.id === sessionIdOf(account.accessToken))?.user_agent
    expect(agentOf(verbose)).toBe(long.slice(0, 256))
    expect(agentOf(odd)).toBe('cafclient/1')

    const stored = await env.DB.prepare('SELECT user_agent FROM sessions WHERE id = ?1')
      .bind(sessionIdOf(verbose.accessToken))
      .first<{ user_agent: string }>()
    expect(stored?.user_agent).toHaveLength(256)
  })

  it('leaves out sessions that have ended', async () => {
    const { owner, laptop, phone } = await twoUsers()
    expect((await api('/auth/logout', { method: 'POST', token: phone.accessToken })).status).toBe(
      204
    )
    expect(
      (
        await api(`/auth/sessions/${sessionIdOf(laptop.accessToken)}`, {
          method: 'DELETE',
          token: owner.accessToken,
        })
      ).status
    ).toBe(204)
    const sessions = await listSessions(owner.accessToken)
    expect(sessions.map((session) => session.id)).toEqual([sessionIdOf(owner.accessToken)])
    expect(sessions[0].current).toBe(true)
  })

  it('leaves out a session that expired without being ended', async () => {
    const start = pinClock()
    const owner = await registerUser()
    const old = await loginUser(owner.email, owner.password)
    // Keep the owner's session alive by refreshing just before the other one expires.
    setClock(start + (Number(env.REFRESH_TOKEN_TTL) - 60) * 1000)
    const fresh = await rotate(owner.refreshToken)
    const both = await listSessions(fresh.accessToken)
    expect(both.map((session) => session.id).sort()).toEqual(
      [sessionIdOf(owner.accessToken), sessionIdOf(old.accessToken)].sort()
    )
    setClock(start + Number(env.REFRESH_TOKEN_TTL) * 1000)
    const sessions = await listSessions(fresh.accessToken)
    expect(sessions.map((session) => session.id)).toEqual([sessionIdOf(owner.accessToken)])
  })

  it('answers 401 missing_token without a token and 401 invalid_token with a bad one', async () => {
    const res = await api('/auth/sessions')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).not.toMatch(/error=/)
    await expectError(await api('/auth/sessions', { token: 'not.a.jwt' }), 401, 'invalid_token')
  })

  it('answers 401 token_revoked for the access token of an ended session', async () => {
    const account = await registerUser()
    expect((await api('/auth/logout', { method: 'POST', token: account.accessToken })).status).toBe(
      204
    )
    await expectError(
      await api('/auth/sessions', { token: account.accessToken }),
      401,
      'token_revoked'
    )
  })
})

describe('DELETE /auth/sessions/:id', () => {
  it('ends exactly that session: its tokens stop working, the others keep working', async () => {
    const { owner, laptop, phone, stranger } = await twoUsers()
    const res = await api(`/auth/sessions/${sessionIdOf(phone.accessToken)}`, {
      method: 'DELETE',
      token: laptop.accessToken,
    })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')

    await expectSessionEnded(phone)
    await expectSessionAlive(owner)
    await expectSessionAlive(laptop)
    await expectSessionAlive(stranger)
  })

  it('ends the caller\u2019s own session when given its id', async () => {
    const { owner, laptop } = await twoUsers()
    const res = await api(`/auth/sessions/${sessionIdOf(laptop.accessToken)}`, {
      method: 'DELETE',
      token: laptop.accessToken,
    })
    expect(res.status).toBe(204)
    await expectSessionEnded(laptop)
    await expectSessionAlive(owner)
  })

  it('answers 404 not_found for another user\u2019s session and leaves that session alive', async () => {
    const { owner, stranger } = await twoUsers()
    await expectError(
      await api(`/auth/sessions/${sessionIdOf(stranger.accessToken)}`, {
        method: 'DELETE',
        token: owner.accessToken,
      }),
      404,
      'not_found'
    )
    await expectSessionAlive(stranger)
    await expectSessionAlive(owner)
  })

  it('answers 404 not_found for an unknown id and for a session that already ended', async () => {
    const { owner, phone } = await twoUsers()
    const path = `/auth/sessions/${sessionIdOf(phone.accessToken)}`
    await expectError(
      await api(`/auth/sessions/${crypto.randomUUID()}`, {
        method: 'DELETE',
        token: owner.accessToken,
      }),
      404,
      'not_found'
    )
    await expectError(
      await api('/auth/sessions/%27%20OR%201=1--', { method: 'DELETE', token: owner.accessToken }),
      404,
      'not_found'
    )
    expect((await api(path, { method: 'DELETE', token: owner.accessToken })).status).toBe(204)
    await expectError(
      await api(path, { method: 'DELETE', token: owner.accessToken }),
      404,
      'not_found'
    )
    await expectSessionAlive(owner)
  })

  it('answers 404 not_found for a session that expired without being ended', async () => {
    const start = pinClock()
    const owner = await registerUser()
    const old = await loginUser(owner.email, owner.password)
    // Keep the owner's session alive by refreshing just before the other one expires.
    setClock(start + (Number(env.REFRESH_TOKEN_TTL) - 60) * 1000)
    const fresh = await rotate(owner.refreshToken)
    setClock(start + (Number(env.REFRESH_TOKEN_TTL) + 1) * 1000)
    await expectError(
      await api(`/auth/sessions/${sessionIdOf(old.accessToken)}`, {
        method: 'DELETE',
        token: fresh.accessToken,
      }),
      404,
      'not_found'
    )
  })

  it('answers 401 missing_token without a token and token_revoked after logout', async () => {
    const { owner, phone } = await twoUsers()
    const path = `/auth/sessions/${sessionIdOf(phone.accessToken)}`
    await expectError(await api(path, { method: 'DELETE' }), 401, 'missing_token')
    expect((await api('/auth/logout', { method: 'POST', token: owner.accessToken })).status).toBe(
      204
    )
    await expectError(
      await api(path, { method: 'DELETE', token: owner.accessToken }),
      401,
      'token_revoked'
    )
    await expectSessionAlive(phone)
  })
})

describe('POST /auth/logout', () => {
  it('returns 204, then refuses the access token with token_revoked and the refresh token', async () => {
    const account = await registerUser()
    const res = await api('/auth/logout', { method: 'POST', token: account.accessToken })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')

    const me = await api('/me', { token: account.accessToken })
    await expectError(me, 401, 'token_revoked')
    expect(me.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
  })

  it('accepts the session refresh token in the body and ends that session', async () => {
    const account = await registerUser()
    const res = await api('/auth/logout', {
      token: account.accessToken,
      json: { refresh_token: account.refreshToken },
    })
    expect(res.status).toBe(204)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
  })

  it('ends only the current session: another login of the same user keeps working', async () => {
    const first = await registerUser()
    const second = await loginUser(first.email, first.password)
    expect((await api('/auth/logout', { method: 'POST', token: first.accessToken })).status).toBe(
      204
    )
    expect((await api('/me', { token: second.accessToken })).status).toBe(200)
    await expectTokenResponse(await refresh(second.refreshToken), 200)
  })

  it('requires an access token: 401 missing_token without one', async () => {
    await expectError(await api('/auth/logout', { method: 'POST' }), 401, 'missing_token')
  })

  it('ends only the current session, checked through both tokens of every session', async () => {
    const { owner, laptop, phone, stranger } = await twoUsers()
    const res = await api('/auth/logout', {
      token: laptop.accessToken,
      json: { refresh_token: laptop.refreshToken },
    })
    expect(res.status).toBe(204)
    await expectSessionEnded(laptop)
    await expectSessionAlive(owner)
    await expectSessionAlive(phone)
    await expectSessionAlive(stranger)
  })

  it('refuses a refresh token of another session with 400 validation_failed and ends nothing', async () => {
    const { owner, laptop, stranger } = await twoUsers()
    for (const foreign of [owner.refreshToken, stranger.refreshToken, 'A'.repeat(43)]) {
      const error = await expectError(
        await api('/auth/logout', { token: laptop.accessToken, json: { refresh_token: foreign } }),
        400,
        'validation_failed'
      )
      expect(Object.keys(error.details ?? {})).toEqual(['refresh_token'])
    }
    await expectSessionAlive(laptop)
    await expectSessionAlive(owner)
    await expectSessionAlive(stranger)
  })

  it('accepts the current session\u2019s refresh token after it has been rotated', async () => {
    const account = await registerUser()
    const rotated = await rotate(account.refreshToken)
    const res = await api('/auth/logout', {
      token: rotated.accessToken,
      json: { refresh_token: rotated.refreshToken },
    })
    expect(res.status).toBe(204)
    await expectSessionEnded(rotated)
  })

  it('answers 401 token_revoked when the session has already ended', async () => {
    const account = await registerUser()
    expect((await api('/auth/logout', { method: 'POST', token: account.accessToken })).status).toBe(
      204
    )
    await expectError(
      await api('/auth/logout', { method: 'POST', token: account.accessToken }),
      401,
      'token_revoked'
    )
  })
})

describe('POST /auth/logout-all', () => {
  it('ends every session of the caller and none of another user\u2019s', async () => {
    const { owner, laptop, phone, stranger } = await twoUsers()
    const res = await api('/auth/logout-all', { method: 'POST', token: phone.accessToken })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    for (const tokens of [owner, laptop, phone] satisfies SessionTokens[]) {
      await expectSessionEnded(tokens)
    }
    await expectSessionAlive(stranger)
  })

  it('also ends sessions whose refresh token was rotated, in every generation', async () => {
    const { owner, laptop } = await twoUsers()
    const rotated = await rotate(laptop.refreshToken)
    expect(
      (await api('/auth/logout-all', { method: 'POST', token: owner.accessToken })).status
    ).toBe(204)
    await expectSessionEnded(rotated)
    await expectError(await api('/me', { token: laptop.accessToken }), 401, 'token_revoked')
  })

  it('answers 401 missing_token without a token and token_revoked once it has run', async () => {
    const account = await registerUser()
    await expectError(await api('/auth/logout-all', { method: 'POST' }), 401, 'missing_token')
    expect(
      (await api('/auth/logout-all', { method: 'POST', token: account.accessToken })).status
    ).toBe(204)
    await expectError(
      await api('/auth/logout-all', { method: 'POST', token: account.accessToken }),
      401,
      'token_revoked'
    )
  })
})
