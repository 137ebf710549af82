/** Per-account login throttling: the limit, its window, its reset, and concurrent failures. */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_POLICY } from '../src/auth/password'
import { registerUser, login } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { expectError } from './helpers/requests'
import { FaultyStorage } from './helpers/storage-faults'

const LIMIT = 10
const WINDOW_SECONDS = 15 * 60
const START = new Date('2026-11-25T12:00:00Z')

const failLogins = async (email: string, times: number) => {
  for (let i = 0; i < times; i++) {
    await expectError(await login(email, 'not the password'), 401, 'invalid_credentials')
  }
}

const storedFailures = async (email: string): Promise<number | null> => {
  const row = await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
    .bind(email)
    .first<{ failures: number }>()
  return row?.failures ?? null
}

// Each failed login costs a full password derivation; a dozen of them take a while on shared cores.
describe('login throttling per account', { timeout: 60_000 }, () => {
  beforeEach(() => {
    pinClock(START)
  })

  it('POST /auth/login refuses the right password with 429 and Retry-After after 10 failures', async () => {
    const account = await registerUser()
    await failLogins(account.email, LIMIT)
    advanceClock(60)

    const res = await login(account.email, account.password)

    const body = await expectError(res, 429, 'too_many_requests')
    expect(body).not.toHaveProperty('access_token')
    expect(res.headers.get('Retry-After')).toBe(String(WINDOW_SECONDS - 60))
  })

  it('POST /auth/login gives a right password its place back when KV fails: retries during an outage never lock', async () => {
    const account = await registerUser()
    await failLogins(account.email, 2)
    const rightPassword = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: account.email, password: account.password }),
    }
    const probe = new FaultyStorage()
    expect((await probe.fetch('/auth/login', rightPassword)).status).toBe(200)
    const kvPut = probe.calls.indexOf('kv.put') + 1
    expect(kvPut).toBeGreaterThan(0)

    for (let attempt = 0; attempt < LIMIT; attempt++) {
      const outage = new FaultyStorage({ failAt: kvPut })
      await expectError(
        await outage.fetch('/auth/login', rightPassword),
        503,
        'service_unavailable'
      )
      expect(outage.failedCall).toBe('kv.put')
    }

    expect(await storedFailures(account.email)).toBe(2)
    expect((await login(account.email, account.password)).status).toBe(200)
    expect(await storedFailures(account.email)).toBe(2)
  })

  it('POST /auth/login counts emails case-insensitively, as it stores them', async () => {
    const account = await registerUser()
    await failLogins(account.email.toUpperCase(), LIMIT)

    await expectError(await login(` ${account.email} `, account.password), 429, 'too_many_requests')
  })

  it('POST /auth/login accepts the right password again once the window has passed', async () => {
    const account = await registerUser()
    await failLogins(account.email, LIMIT)
    advanceClock(WINDOW_SECONDS - 1)
    const stillLocked = await login(account.email, account.password)
    await expectError(stillLocked, 429, 'too_many_requests')
    expect(stillLocked.headers.get('Retry-After')).toBe('1')

    advanceClock(1)

    expect((await login(account.email, account.password)).status).toBe(200)
  })

  it('POST /auth/login opens a fresh window for failures after the old one has passed', async () => {
    const account = await registerUser()
    await failLogins(account.email, LIMIT - 1)
    advanceClock(WINDOW_SECONDS)
    await failLogins(account.email, LIMIT - 1)

    expect(await storedFailures(account.email)).toBe(LIMIT - 1)
    expect((await login(account.email, account.password)).status).toBe(200)
  })

  it('POST /auth/login does not reset the count on a success: ten failures in a window lock, however they interleave', async () => {
    const account = await registerUser()
    await failLogins(account.email, LIMIT - 1)
    expect((await login(account.email, account.password)).status).toBe(200)
    // A success gives back only its own place: the wrong guesses before it still count.
    expect(await storedFailures(account.email)).toBe(LIMIT - 1)

    await failLogins(account.email, 1)

    await expectError(await login(account.email, account.password), 429, 'too_many_requests')
  })

  it('POST /auth/login answers the attempt that exceeds the limit with 429, not 401', async () => {
    const account = await registerUser()
    await failLogins(account.email, LIMIT)

    await expectError(await login(account.email, 'not the password'), 429, 'too_many_requests')
    // A locked account's attempts are refused before any work, so they do not extend the count.
    expect(await storedFailures(account.email)).toBe(LIMIT)
  })

  it('POST /auth/login throttles one email without touching another', async () => {
    const locked = await registerUser()
    const other = await registerUser()
    await failLogins(locked.email, LIMIT)

    await expectError(await login(other.email, 'not the password'), 401, 'invalid_credentials')
    expect((await login(other.email, other.password)).status).toBe(200)
    await expectError(await login(locked.email, locked.password), 429, 'too_many_requests')
  })

  it('POST /auth/login throttles unknown emails like known ones', async () => {
    const email = 'nobody-here@example.com'
    for (let i = 0; i < LIMIT; i++) {
      await expectError(await login(email, 'not the password'), 401, 'invalid_credentials')
    }

    const res = await login(email, 'not the password')

    await expectError(res, 429, 'too_many_requests')
    expect(Number(res.headers.get('Retry-After'))).toBe(WINDOW_SECONDS)
  })

  it('POST /auth/login checks exactly ten passwords of 20 concurrent failures', async () => {
    const account = await registerUser()
    const derivations = vi.spyOn(DEFAULT_POLICY.hasher, 'derive')

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => login(account.email, 'not the password'))
    )

    const statuses = responses.map((res) => res.status).sort()
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMIT)
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - LIMIT)
    // Each place is reserved before hashing: the refused ten never reached a derivation.
    expect(derivations).toHaveBeenCalledTimes(LIMIT)
    expect(await storedFailures(account.email)).toBe(LIMIT)
    await expectError(await login(account.email, account.password), 429, 'too_many_requests')
  })
})
