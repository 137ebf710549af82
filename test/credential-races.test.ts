/**
 * Attacks on the password checks, raced deterministically: bursts of guesses against the
 * per-account throttle, unthrottled re-authentication, and logins that checked the old password
 * while a password change was committing.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { pbkdf2Sha256 } from '../src/auth/password'
import { registerUser, login } from './helpers/accounts'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { Barrier, d1PausingAfter } from './helpers/storage-faults'

const LIMIT = 10
const WRONG = 'not the password at all'
const NEW_PASSWORD = 'a brand new passphrase'

/** Holds each request right after its first statement on login_failures, whatever that is. */
const throttleGate = (expected: number) => {
  const barrier = new Barrier(expected)
  const db = d1PausingAfter(env.DB, /\blogin_failures\b/, () => barrier.arrive())
  return { barrier, db }
}

const statusCounts = (responses: Response[]): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (const res of responses) counts[res.status] = (counts[res.status] ?? 0) + 1
  return counts
}

const liveSessionCount = async (userId: string): Promise<number> => {
  const row = await env.DB.prepare(
    'SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL'
  )
    .bind(userId)
    .first<{ n: number }>()
  return row?.n ?? 0
}

const storedHash = async (userId: string): Promise<string | undefined> =>
  (
    await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1')
      .bind(userId)
      .first<{ password_hash: string }>()
  )?.password_hash

// Every guess here is a full PBKDF2 derivation on shared cores.
describe('the login throttle under concurrent guesses', { timeout: 120_000 }, () => {
  it('refuses the right password with 429 once ten guesses are in flight, before any of them failed', async () => {
    const account = await registerUser()
    const gate = throttleGate(LIMIT)
    const guesses = Array.from({ length: LIMIT }, () =>
      apiWithEnv({ DB: gate.db }, '/auth/login', {
        json: { email: account.email, password: WRONG },
      })
    )
    await gate.barrier.allArrived

    const right = await login(account.email, account.password)
    gate.barrier.release()
    const answers = await Promise.all(guesses)

    const body = await expectError(right, 429, 'too_many_requests')
    expect(body).not.toHaveProperty('access_token')
    expect(Number(right.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(statusCounts(answers)).toEqual({ 401: LIMIT })
    expect(await liveSessionCount(account.userId)).toBe(1)
    await expectError(await login(account.email, account.password), 429, 'too_many_requests')
  })

  it('checks at most ten passwords of a burst of twenty and refuses the rest with 429 before hashing', async () => {
    const account = await registerUser()
    const derive = vi.spyOn(pbkdf2Sha256, 'derive')
    const burst = 2 * LIMIT
    const gate = throttleGate(burst)
    const guesses = Array.from({ length: burst }, () =>
      apiWithEnv({ DB: gate.db }, '/auth/login', {
        json: { email: account.email, password: WRONG },
      })
    )
    await gate.barrier.allArrived
    gate.barrier.release()
    const answers = await Promise.all(guesses)

    expect(statusCounts(answers)).toEqual({ 401: LIMIT, 429: LIMIT })
    expect(derive).toHaveBeenCalledTimes(LIMIT)
  })
})

describe('re-authentication counts against the per-account limit', { timeout: 120_000 }, () => {
  it('POST /auth/password answers 429 to the right current password after ten wrong ones', async () => {
    const account = await registerUser()
    const before = await storedHash(account.userId)
    for (let i = 0; i < LIMIT; i++) {
      await expectError(
        await api('/auth/password', {
          token: account.accessToken,
          json: { current_password: WRONG, new_password: NEW_PASSWORD },
        }),
        403,
        'invalid_credentials'
      )
    }
    const res = await api('/auth/password', {
      token: account.accessToken,
      json: { current_password: account.password, new_password: NEW_PASSWORD },
    })
    await expectError(res, 429, 'too_many_requests')
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0)
    // The password did not change, and the lock holds for login as well.
    await expectError(await login(account.email, NEW_PASSWORD), 429, 'too_many_requests')
    expect(await storedHash(account.userId)).toBe(before)
  })

  it('DELETE /me answers 429 to the right password after ten wrong ones and keeps the account', async () => {
    const account = await registerUser()
    for (let i = 0; i < LIMIT; i++) {
      await expectError(
        await api('/me', {
          method: 'DELETE',
          token: account.accessToken,
          json: { password: WRONG },
        }),
        403,
        'invalid_credentials'
      )
    }
    const res = await api('/me', {
      method: 'DELETE',
      token: account.accessToken,
      json: { password: account.password },
    })
    await expectError(res, 429, 'too_many_requests')
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect((await api('/me', { token: account.accessToken })).status).toBe(200)
  })

  it('wrong logins and wrong re-authentications share one count', async () => {
    const account = await registerUser()
    for (let i = 0; i < LIMIT / 2; i++) {
      await expectError(await login(account.email, WRONG), 401, 'invalid_credentials')
      await expectError(
        await api('/me', {
          method: 'DELETE',
          token: account.accessToken,
          json: { password: WRONG },
        }),
        403,
        'invalid_credentials'
      )
    }
    await expectError(await login(account.email, account.password), 429, 'too_many_requests')
  })

  it('a re-authentication past the limit is refused without hashing', async () => {
    const account = await registerUser()
    for (let i = 0; i < LIMIT; i++) {
      await expectError(await login(account.email, WRONG), 401, 'invalid_credentials')
    }
    const derive = vi.spyOn(pbkdf2Sha256, 'derive')
    await expectError(
      await api('/auth/password', {
        token: account.accessToken,
        json: { current_password: WRONG, new_password: NEW_PASSWORD },
      }),
      429,
      'too_many_requests'
    )
    // Hashing the new password would be a derivation too: none happened.
    expect(derive).not.toHaveBeenCalled()
  })
})

describe('a password change ends logins in flight', { timeout: 120_000 }, () => {
  it('a login that read the old hash before the change committed gets no live session', async () => {
    const owner = await registerUser()
    const inFlight = 3
    const barrier = new Barrier(inFlight)
    // Each login is held right after it read the user row (the old hash), before it checks it.
    const db = d1PausingAfter(env.DB, /FROM users WHERE email/, () => barrier.arrive())
    const logins = Array.from({ length: inFlight }, () =>
      apiWithEnv({ DB: db }, '/auth/login', {
        json: { email: owner.email, password: owner.password },
      })
    )
    await barrier.allArrived

    const change = await api('/auth/password', {
      token: owner.accessToken,
      json: { current_password: owner.password, new_password: NEW_PASSWORD },
    })
    expect(change.status, await change.text()).toBe(204)
    barrier.release()
    const answers = await Promise.all(logins)

    for (const res of answers) {
      if (res.status === 200) {
        // Whatever a login answered, no token it handed out may still work.
        const body = (await res.json()) as { access_token: string }
        await expectError(await api('/me', { token: body.access_token }), 401, 'token_revoked')
      } else {
        await expectError(res, 401, 'invalid_credentials')
      }
    }
    expect(await liveSessionCount(owner.userId)).toBe(1)
    expect((await api('/me', { token: owner.accessToken })).status).toBe(200)
  })
})
