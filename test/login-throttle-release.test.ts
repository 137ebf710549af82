/**
 * A right password gives its place in the failure count back, but never below zero: a release
 * that meets an emptied count (a password reset cleared it while the login was in flight, and
 * another login already took and returned a place) must not hand a guesser an extra attempt.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { login, registerUser } from './helpers/accounts'
import { pinClock } from './helpers/clock'
import { resetPassword, resetTokenFor } from './helpers/recovery'
import { apiWithEnv, expectError } from './helpers/requests'
import { Barrier, d1PausingAfter } from './helpers/storage-faults'

const LIMIT = 10
const WRONG = 'not the password at all'
const NEW_PASSWORD = 'the passphrase after the reset'

const failuresOf = async (email: string): Promise<number | null> =>
  (
    await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
      .bind(email)
      .first<{ failures: number }>()
  )?.failures ?? null

describe('a login in flight across a password reset', () => {
  it('gives back no place it no longer holds: the next guesser still gets 10, not 11', async () => {
    // One second throughout: the count the reset emptied and the one after it share a window.
    pinClock()
    const owner = await registerUser()
    const token = await resetTokenFor(owner.email)

    // The login has its place (and the owner's row, old hash) before the reset lands.
    const barrier = new Barrier(2)
    const db = d1PausingAfter(env.DB, /INTO login_failures|FROM users WHERE email/, () =>
      barrier.arrive()
    )
    const inFlight = apiWithEnv({ DB: db }, '/auth/login', {
      json: { email: owner.email, password: owner.password },
    })
    await barrier.allArrived
    expect(await failuresOf(owner.email)).toBe(1)

    expect((await resetPassword(token, NEW_PASSWORD)).status).toBe(204)
    expect(await failuresOf(owner.email)).toBeNull()
    // The owner signs in with the new password: a place taken and given back.
    expect((await login(owner.email, NEW_PASSWORD)).status).toBe(200)
    expect(await failuresOf(owner.email)).toBe(0)

    barrier.release()
    // Its password is the old one now: refused, and its give-back finds nothing to return.
    await expectError(await inFlight, 401, 'invalid_credentials')
    expect(await failuresOf(owner.email)).toBe(0)

    for (let i = 0; i < LIMIT; i++) {
      await expectError(await login(owner.email, WRONG), 401, 'invalid_credentials')
    }
    await expectError(await login(owner.email, WRONG), 429, 'too_many_requests')
  })
})
