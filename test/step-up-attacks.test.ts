/**
 * A fresh sign-in on an account with a second factor must have used it. The attack built here:
 * someone holding a session and the account's password re-authenticates with the password alone
 * (a new auth_time), then tries every route a fresh sign-in opens to replace or get round the
 * factor: new recovery codes, turning TOTP off, a passkey of their own (whose user-verified
 * sign-in would skip TOTP). The worker entry with TOTP and passkeys both on, a real relying party.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { PASSWORD, registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { createAuthenticator } from './helpers/authenticator'
import { advanceClock, pinClock } from './helpers/clock'
import {
  addPasskey,
  addedPasskey,
  loginOptions,
  passkeyApi,
  passkeyLogin,
} from './helpers/passkeys'
import { expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'
import { enrolTotp, loginForChallenge, totpAt } from './helpers/totp'
import type { Enrolment } from './helpers/totp'

const STEP_MS = 30_000
const STEP_UP = 'Bearer error="insufficient_user_authentication", max_age="600"'

/** An account with TOTP on, its session signed in with the password (before the factor). */
const accountWithTotp = async (): Promise<Account & Enrolment> => {
  const account = await registerUser()
  const enrolment = await enrolTotp(account.accessToken)
  advanceClock(30)
  return { ...account, ...enrolment }
}

const reauthenticate = async (token: string, json: Record<string, unknown>) => {
  const res = await passkeyApi('/auth/reauthenticate', { token, json })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json<{ access_token: string }>()).access_token
}

const recoveryCodes = (token: string) =>
  passkeyApi('/auth/mfa/recovery-codes', { method: 'POST', token })

/** What the attack would change, as stored: the recovery code set, TOTP, the passkeys. */
const storedFactors = async (userId: string) => {
  const [codes, totp, passkeys] = await env.DB.batch([
    env.DB.prepare(
      'SELECT code_hash, used_at FROM recovery_codes WHERE user_id = ?1 ORDER BY 1'
    ).bind(userId),
    env.DB.prepare('SELECT user_id FROM totp_credentials WHERE user_id = ?1').bind(userId),
    env.DB.prepare('SELECT id FROM passkeys WHERE user_id = ?1').bind(userId),
  ])
  return { codes: codes.results, totp: totp.results.length, passkeys: passkeys.results.length }
}

beforeEach(() => {
  pinClock(Math.floor(Date.now() / STEP_MS) * STEP_MS)
})

describe('a session and the password, on an account with TOTP', () => {
  it('re-authenticate with the password, then find every fresh route closed: nothing changes', async () => {
    const victim = await accountWithTotp()
    advanceClock(601)
    const before = await storedFactors(victim.userId)
    expect(before).toMatchObject({ totp: 1, passkeys: 0 })
    expect(before.codes).toHaveLength(10)

    // The password is right: a new auth_time, honestly marked as the password's alone.
    const token = await reauthenticate(victim.accessToken, { password: PASSWORD })
    expect(decodeJwt(token).payload.amr).toEqual(['pwd'])

    const attempts: [string, string, unknown][] = [
      ['POST', '/auth/mfa/recovery-codes', undefined],
      ['DELETE', '/auth/mfa/totp', { code: victim.recoveryCodes[0] }],
      ['POST', '/auth/mfa/totp', undefined],
      ['POST', '/auth/passkeys/register/options', undefined],
      ['POST', '/auth/passkeys/register', { credential: {} }],
    ]
    for (const [method, path, json] of attempts) {
      const res = await passkeyApi(path, { method, token, json })
      await expectError(res, 401, 'reauthentication_required')
      expect(res.headers.get('WWW-Authenticate')).toBe(STEP_UP)
    }

    expect(await storedFactors(victim.userId)).toEqual(before)
    // The factor still guards the password, and the recovery code the attempt sent is unspent.
    await loginForChallenge(victim.email, PASSWORD)
  })

  it('nor is a password sign-in of minutes before the factor was turned on fresh now', async () => {
    const account = await accountWithTotp()
    const res = await recoveryCodes(account.accessToken)
    await expectError(res, 401, 'reauthentication_required')
    expect(res.headers.get('WWW-Authenticate')).toBe(STEP_UP)
  })
})

describe('re-authenticating with the second factor opens the fresh routes', () => {
  it('with a TOTP code: new recovery codes, a new passkey', async () => {
    const account = await accountWithTotp()
    advanceClock(601)
    const token = await reauthenticate(account.accessToken, {
      method: 'totp',
      code: await totpAt(account.secret),
    })
    expect((await recoveryCodes(token)).status).toBe(200)
    await addedPasskey({ ...account, accessToken: token }, await createAuthenticator())
  })

  it('with a recovery code, and with a user-verified passkey', async () => {
    const account = await accountWithTotp()
    const token = await reauthenticate(account.accessToken, {
      method: 'recovery_code',
      code: account.recoveryCodes[0],
    })
    const authenticator = await createAuthenticator()
    await addedPasskey({ ...account, accessToken: token }, authenticator)
    advanceClock(601)

    const credential = await authenticator.get(await loginOptions())
    const byPasskey = await reauthenticate(token, { method: 'passkey', credential })
    expect(decodeJwt(byPasskey).payload.amr).toEqual(['hwk', 'user'])
    expect((await recoveryCodes(byPasskey)).status).toBe(200)
  })

  it('as does signing in with it: a TOTP code after the password, a user-verified passkey', async () => {
    const account = await accountWithTotp()
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const signedIn = await passkeyApi('/auth/mfa/verify', {
      json: { mfa_token: challenge.mfa_token, method: 'totp', code: await totpAt(account.secret) },
    })
    const { access_token: token } = await signedIn.json<{ access_token: string }>()
    expect(decodeJwt(token).payload.amr).toEqual(['pwd', 'otp'])
    const authenticator = await createAuthenticator()
    expect((await addPasskey({ ...account, accessToken: token }, authenticator)).status).toBe(201)

    const byPasskey = await passkeyLogin(authenticator)
    const { access_token: passkeyToken } = await byPasskey.json<{ access_token: string }>()
    expect(decodeJwt(passkeyToken).payload.amr).toEqual(['hwk', 'user'])
    expect((await recoveryCodes(passkeyToken)).status).toBe(200)
  })
})

describe('an account without a second factor', () => {
  it('still counts a password re-authentication as fresh', async () => {
    const account = await registerUser()
    advanceClock(601)
    const token = await reauthenticate(account.accessToken, { password: PASSWORD })
    expect((await passkeyApi('/auth/mfa/totp', { method: 'POST', token })).status).toBe(200)
  })
})
