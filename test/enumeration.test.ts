/** Login must not reveal which emails have accounts: same answer, same work, for both failures. */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_POLICY } from '../src/auth/password'
import { registerUser, uniqueEmail, login } from './helpers/accounts'
import { expectError } from './helpers/requests'

/** Everything a client can compare, minus what differs per request by design. */
const observable = async (res: Response) => {
  const headers = [...res.headers].filter(([name]) => name !== 'x-request-id')
  return { status: res.status, headers, body: await res.text() }
}

/** The parameters of each derivation the current password policy ran, whatever its algorithm. */
const derivationParams = (spy: { mock: { calls: unknown[][] } }): unknown[] =>
  spy.mock.calls.map((call) => call[2])

describe('login enumeration resistance', () => {
  it('POST /auth/login answers an unknown email exactly like a wrong password', async () => {
    const account = await registerUser()

    const wrongPassword = await observable(await login(account.email, 'not the password'))
    const unknownEmail = await observable(await login(uniqueEmail(), 'not the password'))

    expect(wrongPassword.status).toBe(401)
    expect(JSON.parse(wrongPassword.body)).toEqual({
      error: 'invalid_credentials',
      message: expect.any(String),
    })
    expect(unknownEmail).toEqual(wrongPassword)
  })

  it('POST /auth/login runs one full derivation for an unknown email, as for a wrong password', async () => {
    const account = await registerUser()
    const derive = vi.spyOn(DEFAULT_POLICY.hasher, 'derive')

    await expectError(await login(account.email, 'not the password'), 401, 'invalid_credentials')
    const forWrongPassword = derivationParams(derive)
    derive.mockClear()
    await expectError(await login(uniqueEmail(), 'not the password'), 401, 'invalid_credentials')
    const forUnknownEmail = derivationParams(derive)

    expect(forWrongPassword).toEqual([DEFAULT_POLICY.params])
    expect(forUnknownEmail).toEqual(forWrongPassword)
  })

  it('POST /auth/login counts a failure for an unknown email too, so both paths write alike', async () => {
    const email = uniqueEmail()

    await expectError(await login(email, 'not the password'), 401, 'invalid_credentials')

    const row = await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
      .bind(email)
      .first()
    expect(row).toEqual({ failures: 1 })
  })

  it('POST /auth/login answers a malformed stored hash like a wrong password, not with an error', async () => {
    const account = await registerUser()
    await env.DB.prepare(
      "UPDATE users SET password_hash = '$pbkdf2-sha256$i=1$AA$AA' WHERE id = ?1"
    )
      .bind(account.userId)
      .run()

    await expectError(await login(account.email, account.password), 401, 'invalid_credentials')
  })
})
