/**
 * Sign-in with an identity provider over three shards (the sharded test project): an identity, a
 * pending sign-in or link and a login code must each be found on the shard they were written to,
 * and an account a provider creates must live, and be found, where its address places it.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cloudflarePorts } from '../src/adapters'
import { emailShard } from '../src/adapters/d1/shards'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { startTestProvider } from './helpers/identity-provider'
import type { TestProvider } from './helpers/identity-provider'
import {
  call,
  exchange,
  fragmentOf,
  link,
  oidcAuth,
  signInAtProvider,
  signInThroughProvider,
  uniqueIssuer,
} from './helpers/oidc'
import { resetTokenFor, verificationTokenFor, verifyEmail } from './helpers/recovery'
import { SHARDS } from './helpers/shards'

/** An address whose account the email hash places on shard `k`. */
const emailOn = (k: number): string => {
  for (;;) {
    const email = uniqueEmail()
    if (emailShard(email, 3) === k) return email
  }
}

/** The oidc feature as a host registers it, over the project's shards. */
const shardedOidcAuth = (provider: TestProvider) =>
  oidcAuth(
    provider,
    {},
    {},
    cloudflarePorts({ db: env.DB, shards: SHARDS(), refreshTokens: env.REFRESH_TOKENS })
  )

type Auth = ReturnType<typeof shardedOidcAuth>

const setUp = async () => {
  const provider = await startTestProvider({ issuer: uniqueIssuer() })
  return { provider, auth: shardedOidcAuth(provider) }
}

const registerVerified = async (auth: Auth, email: string) => {
  const res = await call(auth, '/auth/register', { json: { email, password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(201)
  expect((await verifyEmail(await verificationTokenFor(email))).status).toBe(200)
  return (await res.json()) as { access_token: string; user: { id: string } }
}

/** How many identities of `sub` each shard holds. */
const identitiesPerShard = (sub: string) =>
  Promise.all(
    SHARDS().map(
      async (db) =>
        (
          await db
            .prepare('SELECT count(*) AS n FROM oidc_identities WHERE subject = ?1')
            .bind(sub)
            .first<{ n: number }>()
        )?.n ?? 0
    )
  )

describe.each([0, 1, 2])('an account on shard %i', (k) => {
  it('signs in with a provider that vouches for its verified address, and the identity signs it in again', async () => {
    const { provider, auth } = await setUp()
    const email = emailOn(k)
    const { user } = await registerVerified(auth, email)
    const sub = `same-address-${crypto.randomUUID()}`
    const login = { claims: { sub, email, email_verified: true } }
    expect((await signInThroughProvider(auth, provider, login)).user.id).toBe(user.id)
    expect((await signInThroughProvider(auth, provider, login)).user.id).toBe(user.id)
    expect(await identitiesPerShard(sub)).toEqual([0, 1, 2].map((s) => (s === k ? 1 : 0)))
  })

  it('links an identity while signed in, and that identity then signs it in', async () => {
    const { provider, auth } = await setUp()
    const { access_token: token, user } = await registerVerified(auth, emailOn(k))
    const sub = `linked-${crypto.randomUUID()}`
    const { answer } = await link(auth, provider, token, sub)
    expect(fragmentOf(await answer())).toEqual({
      path: '/',
      name: 'linked',
      value: 'test',
    })
    const body = await signInThroughProvider(auth, provider, {
      claims: { sub, email: uniqueEmail() },
    })
    expect(body.user.id).toBe(user.id)
  })

  it('is created by a provider on the shard its address names, under an id that says so, and signs in again', async () => {
    const { provider, auth } = await setUp()
    const email = emailOn(k)
    const sub = `new-${crypto.randomUUID()}`
    const login = { claims: { sub, email, email_verified: true } }
    const first = await signInThroughProvider(auth, provider, login)
    expect(first.user.id).toMatch(new RegExp(`^${k}~`))
    expect((await signInThroughProvider(auth, provider, login)).user.id).toBe(first.user.id)
    const me = await call(auth, '/me', { token: first.access_token })
    expect(me.status).toBe(200)
  })

  it("lets the address's owner take back an address a provider's unverified claim took first", async () => {
    const { provider, auth } = await setUp()
    const victim = emailOn(k)
    // The squatter's provider says the victim's address, unverified.
    // Whatever the squatter's own answer, the account it made holds the address.
    await signInAtProvider(auth, provider, {
      claims: { sub: `squatter-${crypto.randomUUID()}`, email: victim, email_verified: false },
    })
    const taken = await call(auth, '/auth/register', {
      json: { email: victim, password: PASSWORD },
    })
    expect(taken.status).toBe(409)
    const token = await resetTokenFor(victim)
    const reset = await call(auth, '/auth/password/reset', {
      json: { token, new_password: 'the owner takes it back 1' },
    })
    expect(reset.status, await reset.clone().text()).toBe(204)
    const login = await call(auth, '/auth/login', {
      json: { email: victim, password: 'the owner takes it back 1' },
    })
    expect(login.status).toBe(200)
  })
})

it('starts a sign-in whose return path holds an address, and comes back to it', async () => {
  const { provider, auth } = await setUp()
  // One address per shard: the flow must not depend on which one the path happens to hold.
  for (const k of [0, 1, 2]) {
    const returnTo = `/invite?from=${emailOn(k)}`
    const res = await signInAtProvider(
      auth,
      provider,
      { claims: { sub: `return-${crypto.randomUUID()}`, email: uniqueEmail() } },
      returnTo
    )
    const fragment = fragmentOf(res)
    expect(fragment.name, `${returnTo}: ${fragment.value}`).toBe('login')
    expect(fragment.path).toBe(returnTo)
    expect((await exchange(auth, fragment.value)).status).toBe(200)
  }
})

it('refuses to link an identity already linked to an account on another shard', async () => {
  const { provider, auth } = await setUp()
  const sub = `contested-${crypto.randomUUID()}`
  // The identity first comes with an account of its own, on shard 1.
  const owner = await signInThroughProvider(auth, provider, {
    claims: { sub, email: emailOn(1), email_verified: true },
  })
  // Another account, on shard 2, tries to link it.
  const other = await registerVerified(auth, emailOn(2))
  const { answer } = await link(auth, provider, other.access_token, sub)
  expect(fragmentOf(await answer()).value).toBe('account_exists')
  expect((await identitiesPerShard(sub)).reduce((a, b) => a + b)).toBe(1)
  // And the identity still signs its own account in.
  expect(
    (await signInThroughProvider(auth, provider, { claims: { sub, email: uniqueEmail() } })).user.id
  ).toBe(owner.user.id)
})
