/**
 * SESSION_CHECK: the session check of protected routes reads the D1 primary by default, or the
 * nearest read replica when set to `replica` (docs/scaling.md). Locally there is one database and
 * no lag, so a lagging replica is built: a D1 wrapper whose Sessions API answers the session check
 * with the row as it was before the revocation, while the binding itself reads the primary.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { refresh, sessionIdOf } from './helpers/sessions'

interface Spy {
  db: D1Database
  /** The constraint or bookmark of every withSession call. */
  sessions: string[]
}

/**
 * The real D1 binding, with a replica that has not applied any revocation yet: through
 * withSession, a session row reads as live (revoked_at null) whatever the primary holds.
 */
const laggingReplica = (db: D1Database): Spy => {
  const sessions: string[] = []
  const staleStatement = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...values: unknown[]) => staleStatement(target.bind(...values))
        }
        if (prop === 'first') {
          return async () => {
            const row = await target.first()
            return row && 'revoked_at' in row ? { ...row, revoked_at: null } : row
          }
        }
        const value: unknown = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'withSession') {
        return (constraint: string) => {
          sessions.push(constraint)
          const session = target.withSession(constraint as D1SessionConstraint)
          return {
            prepare: (sql: string) => staleStatement(session.prepare(sql)),
            batch: session.batch.bind(session),
            getBookmark: session.getBookmark.bind(session),
          }
        }
      }
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { db: wrapped, sessions }
}

/** An account whose session another device has just ended (DELETE /auth/sessions/:id). */
const revokedElsewhere = async () => {
  const victim = await registerUser()
  const other = await api('/auth/login', {
    json: { email: victim.email, password: victim.password },
  })
  expect(other.status).toBe(200)
  const otherToken = ((await other.json()) as { access_token: string }).access_token
  const ended = await api(`/auth/sessions/${sessionIdOf(victim.accessToken)}`, {
    method: 'DELETE',
    token: otherToken,
  })
  expect(ended.status).toBe(204)
  return { victim, otherToken }
}

describe('SESSION_CHECK=primary (the default)', () => {
  it('is what wrangler.toml ships', () => {
    expect(env.SESSION_CHECK).toBe('primary')
  })

  it('GET /me refuses a session revoked elsewhere at once, whatever a replica holds', async () => {
    const { victim } = await revokedElsewhere()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db }, '/me', { token: victim.accessToken })
    await expectError(res, 401, 'token_revoked')
    expect(replica.sessions).toEqual([])
  })

  it('an empty SESSION_CHECK means primary', async () => {
    const { victim } = await revokedElsewhere()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db, SESSION_CHECK: '' }, '/me', {
      token: victim.accessToken,
    })
    await expectError(res, 401, 'token_revoked')
    expect(replica.sessions).toEqual([])
  })
})

describe('SESSION_CHECK=replica', () => {
  it('reads the session check through an unconstrained D1 session, and answers as before', async () => {
    const account = await registerUser()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db, SESSION_CHECK: 'replica' }, '/me', {
      token: account.accessToken,
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { user: { email: string } }).user.email).toBe(account.email)
    expect(replica.sessions).toEqual(['first-unconstrained'])
  })

  it('lets a revoked access token pass while the replica lags: the price of the mode', async () => {
    const { victim } = await revokedElsewhere()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db, SESSION_CHECK: 'replica' }, '/me', {
      token: victim.accessToken,
    })
    expect(res.status).toBe(200)
  })

  it('still refuses the revoked session at once once the replica has caught up', async () => {
    const { victim } = await revokedElsewhere()
    // The real binding: locally its Sessions API reads the one database, which has the revocation.
    const res = await apiWithEnv({ SESSION_CHECK: 'replica' }, '/me', {
      token: victim.accessToken,
    })
    await expectError(res, 401, 'token_revoked')
  })

  it('never lets a lagging replica extend a session: refresh decides on the primary', async () => {
    const { victim } = await revokedElsewhere()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db, SESSION_CHECK: 'replica' }, '/auth/refresh', {
      json: { refresh_token: victim.refreshToken },
    })
    await expectError(res, 401, 'invalid_refresh_token')
    expect(replica.sessions).toEqual([])
    // And the same holds through the default binding.
    await expectError(await refresh(victim.refreshToken), 401, 'invalid_refresh_token')
  })

  it('keeps the routes own reads on the primary: the ended session is gone from the list', async () => {
    const { victim, otherToken } = await revokedElsewhere()
    const replica = laggingReplica(env.DB)
    const res = await apiWithEnv({ DB: replica.db, SESSION_CHECK: 'replica' }, '/auth/sessions', {
      token: otherToken,
    })
    expect(res.status).toBe(200)
    const { sessions } = (await res.json()) as { sessions: { id: string }[] }
    expect(sessions.map((s) => s.id)).not.toContain(sessionIdOf(victim.accessToken))
    // Only the caller's own session check went through the replica.
    expect(replica.sessions).toEqual(['first-unconstrained'])
  })
})

describe('SESSION_CHECK misconfigured', () => {
  it('answers 500 server_misconfigured rather than guessing a mode', async () => {
    const account = await registerUser()
    const res = await apiWithEnv({ SESSION_CHECK: 'nearest' }, '/me', {
      token: account.accessToken,
    })
    await expectError(res, 500, 'server_misconfigured')
  })
})
