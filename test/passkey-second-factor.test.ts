/**
 * Passkeys beside another second factor, on the core's second-factor seam: the 202 after a
 * password (and after a passkey without user verification), a passkey answering an mfa_token,
 * re-authentication with a passkey, and the fresh sign-in that adding or removing one needs. The
 * other factor is a stand-in with a fixed code, enrolled where users.mfa says `totp: true` (as
 * the TOTP feature keeps it), so that these tests depend on no other feature's code.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { WrongSecondFactor } from '../src/auth/errors'
import type { AuthFeature } from '../src/feature'
import { passkeysFeature } from '../src/sign-in/passkeys'
import { PASSWORD, registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { createAuthenticator } from './helpers/authenticator'
import type { SoftwareAuthenticator } from './helpers/authenticator'
import { advanceClock, pinClock } from './helpers/clock'
import { fetchApp, testAuth } from './helpers/create-auth'
import { PASSKEY_OPTIONS, passkeyCeremonies } from './helpers/passkeys'
import type { RequestOptions } from './helpers/requests'
import { expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'

const STAND_IN_CODE = '246810'

/** The other second factor: its code is fixed; users.mfa.totp says who has it. */
const standInFactor: AuthFeature = {
  id: 'stand-in-totp',
  setup: () => ({
    secondFactor: {
      methods: ['totp'],
      enrolled: (user) =>
        (JSON.parse(user.mfa ?? '{}') as { totp?: boolean }).totp ? ['totp'] : [],
      verify: async ({ code }) => {
        if (code !== STAND_IN_CODE) throw new WrongSecondFactor('invalid_mfa_code')
        return ['otp']
      },
    },
  }),
}

const auth = testAuth({
  features: [standInFactor, passkeysFeature],
  featureOptions: { passkeys: PASSKEY_OPTIONS },
})
const call = (path: string, options: RequestOptions = {}) => fetchApp(auth.app, path, options)
const { addedPasskey, loginOptions, passkeyLogin } = passkeyCeremonies(call)

const enableStandInFactor = (userId: string) =>
  env.DB.prepare(`UPDATE users SET mfa = json_set(mfa, '$.totp', json('true')) WHERE id = ?1`)
    .bind(userId)
    .run()

const accountWithPasskey = async (
  options: { secondFactor?: boolean } = {}
): Promise<{ account: Account; authenticator: SoftwareAuthenticator }> => {
  const account = await registerUser()
  const authenticator = await createAuthenticator()
  await addedPasskey(account, authenticator)
  if (options.secondFactor) await enableStandInFactor(account.userId)
  return { account, authenticator }
}

interface MfaRequired {
  mfa_required: true
  mfa_token: string
  methods: string[]
  expires_in: number
}

const passwordLogin = async (account: Account): Promise<Response> =>
  call('/auth/login', { json: { email: account.email, password: PASSWORD } })

const mfaRequired = async (res: Response): Promise<MfaRequired> => {
  expect(res.status, await res.clone().text()).toBe(202)
  return res.json()
}

const passkeyOptionsFor = async (mfaToken: string) => {
  const res = await call('/auth/mfa/passkey/options', { json: { mfa_token: mfaToken } })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as Awaited<ReturnType<typeof loginOptions>>
}

const verifyWithPasskey = (mfaToken: string, credential: unknown) =>
  call('/auth/mfa/verify', { json: { mfa_token: mfaToken, method: 'passkey', credential } })

const amrOf = async (res: Response): Promise<unknown> => {
  expect(res.status, await res.clone().text()).toBe(200)
  return decodeJwt(((await res.json()) as { access_token: string }).access_token).payload.amr
}

const mfaFailures = async (mfaToken: string): Promise<number> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(mfaToken))
  const id = btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
  const row = await env.DB.prepare('SELECT failures FROM mfa_challenges WHERE id = ?1')
    .bind(id)
    .first<{ failures: number }>()
  return row?.failures ?? -1
}

/** How the session was last proven, as stored: refreshing would hand these out. */
const sessionProof = (account: Account) =>
  env.DB.prepare('SELECT amr, auth_time, refresh_hash FROM sessions WHERE id = ?1')
    .bind(decodeJwt(account.accessToken).payload.sid)
    .first()

describe('a passkey as a second factor', () => {
  it('is offered after a password when the account has another second factor', async () => {
    const { account } = await accountWithPasskey({ secondFactor: true })
    const challenge = await mfaRequired(await passwordLogin(account))
    expect(challenge.methods).toEqual(['totp', 'passkey'])
  })

  it('does not by itself turn a second factor on: a password alone still signs in', async () => {
    const { account } = await accountWithPasskey()
    expect(await amrOf(await passwordLogin(account))).toEqual(['pwd'])
  })

  it("offers the account's passkeys for the mfa_token, and signs in with one", async () => {
    const { account, authenticator } = await accountWithPasskey({ secondFactor: true })
    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(account))

    const options = await passkeyOptionsFor(mfaToken)
    expect(options.allowCredentials).toEqual([
      { type: 'public-key', id: authenticator.credentialId },
    ])
    const res = await verifyWithPasskey(mfaToken, await authenticator.get(options))

    expect(await amrOf(res)).toEqual(['pwd', 'hwk', 'user'])
  })

  it('refuses an unknown mfa_token on the options route', async () => {
    const res = await call('/auth/mfa/passkey/options', { json: { mfa_token: 'x'.repeat(43) } })
    await expectError(res, 401, 'invalid_mfa_token')
  })

  it('refuses a sign-in challenge (login/options) answered as the second factor', async () => {
    const { account, authenticator } = await accountWithPasskey({ secondFactor: true })
    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(account))
    await passkeyOptionsFor(mfaToken)

    const res = await verifyWithPasskey(mfaToken, await authenticator.get(await loginOptions()))

    await expectError(res, 401, 'invalid_passkey')
    expect(await mfaFailures(mfaToken)).toBe(1)
  })

  it('refuses the challenge of another mfa_token of the same account', async () => {
    const { account, authenticator } = await accountWithPasskey({ secondFactor: true })
    const first = await mfaRequired(await passwordLogin(account))
    const second = await mfaRequired(await passwordLogin(account))
    const credential = await authenticator.get(await passkeyOptionsFor(first.mfa_token))

    await expectError(await verifyWithPasskey(second.mfa_token, credential), 401, 'invalid_passkey')
    // The first mfa_token's challenge was not spent by the refusal: it still works.
    const again = await authenticator.get(await passkeyOptionsFor(first.mfa_token))
    expect((await verifyWithPasskey(first.mfa_token, again)).status).toBe(200)
  })

  it("refuses an attacker's own passkey answering the victim's second factor", async () => {
    const { account: victim } = await accountWithPasskey({ secondFactor: true })
    const { authenticator: attackers } = await accountWithPasskey()
    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(victim))

    const credential = await attackers.get(await passkeyOptionsFor(mfaToken))

    await expectError(await verifyWithPasskey(mfaToken, credential), 401, 'invalid_passkey')
  })

  it('refuses a replayed second-factor assertion', async () => {
    const { account, authenticator } = await accountWithPasskey({ secondFactor: true })
    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(account))
    const credential = await authenticator.get(await passkeyOptionsFor(mfaToken))
    expect((await verifyWithPasskey(mfaToken, credential)).status).toBe(200)

    const next = await mfaRequired(await passwordLogin(account))
    await expectError(await verifyWithPasskey(next.mfa_token, credential), 401, 'invalid_passkey')
  })

  it('answers a malformed credential with 401 invalid_passkey, counted as a wrong answer', async () => {
    const { account } = await accountWithPasskey({ secondFactor: true })
    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(account))

    for (const credential of [
      {},
      { id: 'x', type: 'public-key', response: { clientDataJSON: '*' } },
    ]) {
      await expectError(await verifyWithPasskey(mfaToken, credential), 401, 'invalid_passkey')
    }
    expect(await mfaFailures(mfaToken)).toBe(2)
  })

  it('asks a passkey sign-in without user verification for the second factor: 202', async () => {
    const { authenticator } = await accountWithPasskey({ secondFactor: true })

    const challenge = await mfaRequired(await passkeyLogin(authenticator, { uv: false }))

    expect(challenge.methods).toEqual(['totp', 'passkey'])
    const res = await call('/auth/mfa/verify', {
      json: { mfa_token: challenge.mfa_token, method: 'totp', code: STAND_IN_CODE },
    })
    expect(await amrOf(res)).toEqual(['hwk', 'otp'])
  })

  it('lets a passkey sign-in with user verification through on an account with a second factor', async () => {
    const { authenticator } = await accountWithPasskey({ secondFactor: true })
    expect(await amrOf(await passkeyLogin(authenticator))).toEqual(['hwk', 'user'])
  })
})

describe('re-authenticating with a passkey', () => {
  it('gives the same session a new auth_time and the passkey amr', async () => {
    pinClock()
    const { account, authenticator } = await accountWithPasskey()
    advanceClock(700)
    const credential = await authenticator.get(await loginOptions())

    const res = await call('/auth/reauthenticate', {
      token: account.accessToken,
      json: { method: 'passkey', credential },
    })

    expect(res.status, await res.clone().text()).toBe(200)
    const { payload } = decodeJwt(((await res.json()) as { access_token: string }).access_token)
    expect(payload.sid).toBe(decodeJwt(account.accessToken).payload.sid)
    expect(payload.amr).toEqual(['hwk', 'user'])
    expect(payload.auth_time).toBe(Math.floor(Date.now() / 1000))
  })

  it('refuses an assertion without user verification: the sign-in stays stale, and it is counted', async () => {
    pinClock()
    const { account, authenticator } = await accountWithPasskey()
    advanceClock(700)
    const before = await sessionProof(account)
    const credential = await authenticator.get(await loginOptions(), { uv: false })

    const res = await call('/auth/reauthenticate', {
      token: account.accessToken,
      json: { method: 'passkey', credential },
    })

    await expectError(res, 401, 'invalid_passkey')
    expect(await sessionProof(account)).toEqual(before)
    await expectError(
      await call('/auth/passkeys/register/options', { method: 'POST', token: account.accessToken }),
      401,
      'reauthentication_required'
    )
    const throttle = await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
      .bind(account.email)
      .first<{ failures: number }>()
    expect(throttle?.failures).toBe(1)
  })

  it("refuses another account's passkey, and a second-factor challenge", async () => {
    const { account, authenticator } = await accountWithPasskey({ secondFactor: true })
    const { authenticator: others } = await accountWithPasskey()
    const reauthenticate = (credential: unknown) =>
      call('/auth/reauthenticate', {
        token: account.accessToken,
        json: { method: 'passkey', credential },
      })

    const foreign = await others.get(await loginOptions())
    await expectError(await reauthenticate(foreign), 401, 'invalid_passkey')

    const { mfa_token: mfaToken } = await mfaRequired(await passwordLogin(account))
    const mfa = await authenticator.get(await passkeyOptionsFor(mfaToken))
    await expectError(await reauthenticate(mfa), 401, 'invalid_passkey')
  })
})

describe('adding and removing passkeys needs a fresh sign-in', () => {
  it('answers 401 reauthentication_required after 10 minutes, and works again after re-authenticating', async () => {
    pinClock()
    const { account, authenticator } = await accountWithPasskey()
    const [passkey] = (
      (await (await call('/auth/passkeys', { token: account.accessToken })).json()) as {
        passkeys: { id: string }[]
      }
    ).passkeys
    advanceClock(601)

    for (const [path, options] of [
      ['/auth/passkeys/register/options', { method: 'POST' }],
      ['/auth/passkeys/register', { json: { credential: {} } }],
      [`/auth/passkeys/${passkey.id}`, { method: 'DELETE' }],
    ] as const) {
      const res = await call(path, { ...options, token: account.accessToken })
      await expectError(res, 401, 'reauthentication_required')
      expect(res.headers.get('WWW-Authenticate')).toContain('insufficient_user_authentication')
    }
    // The list is no change of how one signs in.
    expect((await call('/auth/passkeys', { token: account.accessToken })).status).toBe(200)

    const credential = await authenticator.get(await loginOptions())
    const renewed = await call('/auth/reauthenticate', {
      token: account.accessToken,
      json: { method: 'passkey', credential },
    })
    const { access_token: fresh } = (await renewed.json()) as { access_token: string }
    const removed = await call(`/auth/passkeys/${passkey.id}`, { method: 'DELETE', token: fresh })
    expect(removed.status).toBe(204)
  })
})

describe("the user object's passkey count", () => {
  it('follows additions and removals', async () => {
    const account = await registerUser()
    const me = async () =>
      (
        (await (await call('/me', { token: account.accessToken })).json()) as {
          user: { mfa: unknown }
        }
      ).user.mfa
    expect(await me()).toEqual({ totp: false, passkeys: 0 })

    const first = await addedPasskey(account, await createAuthenticator())
    await addedPasskey(account, await createAuthenticator({ algorithm: 'EdDSA' }))
    expect(await me()).toEqual({ totp: false, passkeys: 2 })

    await call(`/auth/passkeys/${first.id}`, { method: 'DELETE', token: account.accessToken })
    expect(await me()).toEqual({ totp: false, passkeys: 1 })
  })
})
