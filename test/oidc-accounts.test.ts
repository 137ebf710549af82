/**
 * Which account an identity signs in, linking and unlinking, and the pre-account takeover rule: an
 * identity never reaches an account through an address that is not verified on both sides, and a
 * reset by the address's owner removes the identities linked before the address was verified.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { oidcFeature } from '../src/sign-in/oidc'
import { totpFeature } from '../src/sign-in/totp'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { startTestProvider } from './helpers/identity-provider'
import {
  call,
  countRows,
  eventsOf,
  exchange,
  expectLoginError,
  fragmentOf,
  link,
  oidcAuth,
  signInAtProvider,
  signInThroughProvider,
  uniqueIssuer,
  withProvider,
} from './helpers/oidc'
import type { OidcAuth } from './helpers/oidc'
import { resetTokenFor, verificationTokenFor, verifyEmail } from './helpers/recovery'
import { expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'
import { totpAt } from './helpers/totp'

const register = async (auth: OidcAuth, email: string) => {
  const res = await call(auth, '/auth/register', { json: { email, password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as { access_token: string; user: { id: string } }
}

const verify = async (email: string) => {
  expect((await verifyEmail(await verificationTokenFor(email))).status).toBe(200)
}

const identitiesOf = (userId: string) =>
  countRows('SELECT COUNT(*) AS n FROM oidc_identities WHERE user_id = ?1', userId)

const identityRows = () => countRows('SELECT COUNT(*) AS n FROM oidc_identities')

const listIdentities = async (auth: OidcAuth, token: string) => {
  const res = await call(auth, '/auth/identities', { token })
  expect(res.status).toBe(200)
  return ((await res.json()) as { identities: { id: string; provider: string }[] }).identities
}

/** The reset through the app that registers the feature, so that its reclaim steps run. */
const resetThroughOidc = (auth: OidcAuth, token: string, newPassword: string) =>
  call(auth, '/auth/password/reset', { json: { token, new_password: newPassword } })

describe('an identity whose address matches a local account', () => {
  it('is refused with account_exists when the provider does not vouch for the address', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const { user } = await register(auth, email)
    await verify(email)
    const res = await signInAtProvider(auth, provider, {
      claims: { sub: 'unverified', email, email_verified: false },
    })
    expectLoginError(res, 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('is refused with account_exists when the provider says "true" as a string (only the boolean vouches)', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const { user } = await register(auth, email)
    await verify(email)
    const res = await signInAtProvider(auth, provider, {
      claims: { sub: 'string-true', email, email_verified: 'true' },
    })
    expectLoginError(res, 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('is refused with account_exists when the local address is not verified, though the provider vouches for it', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const { user } = await register(auth, email)
    const res = await signInAtProvider(auth, provider, {
      claims: { sub: 'vouched', email, email_verified: true },
    })
    expectLoginError(res, 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('is linked and signs that account in when both sides verified the address', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const { user } = await register(auth, email)
    await verify(email)
    const body = await signInThroughProvider(auth, provider, {
      claims: { sub: 'both-verified', email: email.toUpperCase(), email_verified: true },
    })
    expect(body.user.id).toBe(user.id)
    expect(await identitiesOf(user.id)).toBe(1)
  })
})

describe('an account with a second factor', () => {
  it('still asks for it after the provider: 202 at the exchange, then TOTP gives amr ["fed","otp"]', async () => {
    // Whoever controls the owner's provider account must not skip the owner's TOTP.
    const provider = await startTestProvider({ issuer: uniqueIssuer() })
    const auth = oidcAuth(
      provider,
      {},
      { features: [totpFeature, oidcFeature], featureOptions: { totp: { secret: env.MFA_SECRET } } }
    )
    const email = uniqueEmail()
    const { access_token: accessToken, user } = await register(auth, email)
    await verify(email)
    const at = pinClock()
    const setup = await call(auth, '/auth/mfa/totp', { method: 'POST', token: accessToken })
    expect(setup.status, await setup.clone().text()).toBe(200)
    const { secret } = (await setup.json()) as { secret: string }
    const confirm = await call(auth, '/auth/mfa/totp/confirm', {
      token: accessToken,
      json: { code: await totpAt(secret, at) },
    })
    expect(confirm.status, await confirm.clone().text()).toBe(200)

    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { sub: 'owner', email, email_verified: true },
      })
    )
    const sessionsBefore = await countRows(
      'SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1',
      user.id
    )
    const res = await exchange(auth, value)
    expect(res.status, await res.clone().text()).toBe(202)
    const challenge = (await res.json()) as Record<string, unknown>
    expect(challenge).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] })
    expect(challenge).not.toHaveProperty('access_token')
    expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-access'))).toBe(false)
    expect(await countRows('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1', user.id)).toBe(
      sessionsBefore
    )

    advanceClock(30)
    const verified = await call(auth, '/auth/mfa/verify', {
      json: {
        mfa_token: challenge.mfa_token,
        method: 'totp',
        code: await totpAt(secret, Date.now()),
      },
    })
    expect(verified.status, await verified.clone().text()).toBe(200)
    const { access_token: token } = (await verified.json()) as { access_token: string }
    expect(decodeJwt(token).payload).toMatchObject({ sub: user.id, amr: ['fed', 'otp'] })
  })
})

describe('a new identity with no matching account', () => {
  it('creates one whose address is unverified when the provider says so', async () => {
    const { provider, auth } = await withProvider()
    const body = await signInThroughProvider(auth, provider, {
      claims: { sub: 'new-unverified', email: uniqueEmail(), email_verified: false },
    })
    expect(body.user.email_verified).toBe(false)
  })

  it('gets no session with REQUIRE_EMAIL_VERIFICATION when the provider did not verify the address', async () => {
    const provider = await startTestProvider({ issuer: uniqueIssuer() })
    const auth = oidcAuth(provider, {}, { requireEmailVerification: true })
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { sub: 'must-verify', email: uniqueEmail(), email_verified: false },
      })
    )
    await expectError(await exchange(auth, value), 403, 'email_not_verified')
  })

  it('creates nothing when the provider gives no email', async () => {
    const { provider, auth } = await withProvider()
    const before = await identityRows()
    expectLoginError(
      await signInAtProvider(auth, provider, { claims: { sub: 'no-email' } }),
      'provider_error'
    )
    expect(await identityRows()).toBe(before)
  })
})

describe('linking from a signed-in account', () => {
  it('links the identity, which then signs the account in', async () => {
    const { provider, auth } = await withProvider()
    const { access_token: token, user } = await register(auth, uniqueEmail())
    const { answer } = await link(auth, provider, token, 'linked-sub')
    expect(fragmentOf(await answer())).toEqual({ path: '/', name: 'linked', value: 'test' })
    expect(await listIdentities(auth, token)).toEqual([
      expect.objectContaining({ provider: 'test' }),
    ])
    const body = await signInThroughProvider(auth, provider, { claims: { sub: 'linked-sub' } })
    expect(body.user.id).toBe(user.id)
  })

  it('needs a sign-in within the last 10 minutes', async () => {
    const { auth } = await withProvider()
    pinClock()
    const { access_token: token } = await register(auth, uniqueEmail())
    advanceClock(601)
    const res = await call(auth, '/auth/oidc/test/link', { token, method: 'POST' })
    await expectError(res, 401, 'reauthentication_required')
    expect(res.headers.get('WWW-Authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", max_age="600"'
    )
  })

  it("refuses an identity that is another account's with account_exists", async () => {
    const { provider, auth } = await withProvider()
    await signInThroughProvider(auth, provider, {
      claims: { sub: 'taken-sub', email: uniqueEmail(), email_verified: true },
    })
    const { access_token: token, user } = await register(auth, uniqueEmail())
    const { answer } = await link(auth, provider, token, 'taken-sub')
    expectLoginError(await answer(), 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('links nothing when the password changed between the start and the callback', async () => {
    const { provider, auth } = await withProvider()
    const { access_token: token, user } = await register(auth, uniqueEmail())
    const { answer } = await link(auth, provider, token, 'raced-sub')
    const change = await call(auth, '/auth/password', {
      token,
      json: { current_password: PASSWORD, new_password: 'another long password' },
    })
    expect(change.status).toBe(204)
    expectLoginError(await answer(), 'invalid_state')
    expect(await identitiesOf(user.id)).toBe(0)
  })
})

describe('DELETE /auth/identities/:id', () => {
  it('unlinks an identity from an account that has a password', async () => {
    const { provider, auth } = await withProvider()
    const { access_token: token, user } = await register(auth, uniqueEmail())
    await (await link(auth, provider, token, 'unlink-me')).answer()
    const [identity] = await listIdentities(auth, token)
    const res = await call(auth, `/auth/identities/${identity.id}`, { token, method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(await identitiesOf(user.id)).toBe(0)
    expect((await eventsOf(user.id)).map((event) => event.type)).toEqual([
      'identity_linked',
      'identity_unlinked',
    ])
  })

  it('answers 409 last_sign_in_method for the only way into an account without a password', async () => {
    const { provider, auth } = await withProvider()
    const body = await signInThroughProvider(auth, provider, {
      claims: { sub: 'only-way', email: uniqueEmail(), email_verified: true },
    })
    const [identity] = await listIdentities(auth, body.access_token)
    const res = await call(auth, `/auth/identities/${identity.id}`, {
      token: body.access_token,
      method: 'DELETE',
    })
    await expectError(res, 409, 'last_sign_in_method')
    expect(await identitiesOf(body.user.id)).toBe(1)
  })

  it("answers 404 for another account's identity, and leaves it", async () => {
    const { provider, auth } = await withProvider()
    const owner = await signInThroughProvider(auth, provider, {
      claims: { sub: 'someone-else', email: uniqueEmail(), email_verified: true },
    })
    const [identity] = await listIdentities(auth, owner.access_token)
    const { access_token: token } = await register(auth, uniqueEmail())
    const res = await call(auth, `/auth/identities/${identity.id}`, { token, method: 'DELETE' })
    await expectError(res, 404, 'not_found')
    expect(await identitiesOf(owner.user.id)).toBe(1)
  })
})

describe('an account created by a provider', () => {
  it('costs a password login the same derivation an unknown email costs (no faster answer)', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    await signInThroughProvider(auth, provider, {
      claims: { sub: 'timing', email, email_verified: true },
    })
    const derivations = vi.spyOn(crypto.subtle, 'deriveBits')
    await expectError(
      await call(auth, '/auth/login', { json: { email, password: PASSWORD } }),
      401,
      'invalid_credentials'
    )
    const passwordless = derivations.mock.calls.length
    await expectError(
      await call(auth, '/auth/login', { json: { email: uniqueEmail(), password: PASSWORD } }),
      401,
      'invalid_credentials'
    )
    expect(passwordless).toBeGreaterThan(0)
    expect(passwordless).toBe(derivations.mock.calls.length - passwordless)
    derivations.mockRestore()
  })

  it('sets a password through the reset flow, and then signs in with it', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    await signInThroughProvider(auth, provider, {
      claims: { sub: 'wants-password', email, email_verified: true },
    })
    const noPassword = await call(auth, '/auth/login', { json: { email, password: PASSWORD } })
    await expectError(noPassword, 401, 'invalid_credentials')
    expect((await resetThroughOidc(auth, await resetTokenFor(email), PASSWORD)).status).toBe(204)
    const login = await call(auth, '/auth/login', { json: { email, password: PASSWORD } })
    expect(login.status).toBe(200)
  })
})

describe('pre-account takeover', () => {
  it("removes at the owner's reset an identity linked while the address was unverified", async () => {
    const { provider, auth } = await withProvider()
    const victim = uniqueEmail()
    // The attacker registers the victim's address (unverified) and links their own identity.
    const attacker = await register(auth, victim)
    await (await link(auth, provider, attacker.access_token, 'attacker-sub')).answer()
    expect(await identitiesOf(attacker.user.id)).toBe(1)

    // The owner of the address takes the account back with a reset.
    expect(
      (await resetThroughOidc(auth, await resetTokenFor(victim), 'the owner now')).status
    ).toBe(204)

    expect(await identitiesOf(attacker.user.id)).toBe(0)
    const again = await signInThroughProvider(auth, provider, {
      claims: { sub: 'attacker-sub', email: uniqueEmail(), email_verified: true },
    })
    expect(again.user.id).not.toBe(attacker.user.id)
  })

  it('removes the identity that made an unverified account when the owner registers the address (REQUIRE_EMAIL_VERIFICATION)', async () => {
    const provider = await startTestProvider({ issuer: uniqueIssuer() })
    const auth = oidcAuth(provider, {}, { requireEmailVerification: true })
    const victim = uniqueEmail()
    // The attacker's identity claims the victim's address, unverified: an unverified account.
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { sub: 'squatter', email: victim, email_verified: false },
      })
    )
    const squatted = await env.DB.prepare('SELECT id FROM users WHERE email = ?1')
      .bind(victim)
      .first<{ id: string }>()
    expect(await identitiesOf(squatted!.id)).toBe(1)

    const res = await call(auth, '/auth/register', { json: { email: victim, password: PASSWORD } })
    expect(res.status, await res.clone().text()).toBe(201)

    expect(await identitiesOf(squatted!.id)).toBe(0)
    // The squatter's login code from before starts no session.
    await expectError(await exchange(auth, value), 403, 'email_not_verified')
    expect(
      await countRows('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1', squatted!.id)
    ).toBe(0)
  })

  it('keeps at a reset an identity linked while the address was verified', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const { access_token: token, user } = await register(auth, email)
    await verify(email)
    await (await link(auth, provider, token, 'kept-sub')).answer()
    expect(
      (await resetThroughOidc(auth, await resetTokenFor(email), 'a new long password')).status
    ).toBe(204)
    expect(await identitiesOf(user.id)).toBe(1)
  })
})

describe('DELETE /me', () => {
  it("removes the account's identities, login codes and pending links", async () => {
    const { provider, auth } = await withProvider()
    const { access_token: token, user } = await register(auth, uniqueEmail())
    await (await link(auth, provider, token, 'deleted-sub')).answer()
    await call(auth, '/auth/oidc/test/link', { token, method: 'POST' })
    const res = await call(auth, '/me', { token, method: 'DELETE', json: { password: PASSWORD } })
    expect(res.status).toBe(204)
    expect(await identitiesOf(user.id)).toBe(0)
    expect(
      await countRows('SELECT COUNT(*) AS n FROM oidc_states WHERE link_user_id = ?1', user.id)
    ).toBe(0)
    expect(
      await env.DB.prepare('SELECT 1 FROM users WHERE id = ?1').bind(user.id).first()
    ).toBeNull()
  })
})
