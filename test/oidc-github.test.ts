/**
 * Sign-in with GitHub, the provider kind without OpenID Connect: the same flow (state, PKCE, the
 * __Host-oidc cookie, the one-time login code) against GitHub's token endpoint and API,
 * intercepted (test/helpers/github.ts). The identity is GitHub's numeric id, and only the primary
 * address counts, verified only when GitHub says so; every refusal creates nothing.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { oidcOptionsFromEnv } from '../src/sign-in/oidc/config'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import {
  AUTHORIZE_URL,
  EMAILS_URL,
  TOKEN_URL,
  USER_URL,
  githubAuth,
  signInAtGithub,
  signInThroughGithub,
  startFakeGithub,
  startGithub,
  uniqueGithubId,
  withGithub,
} from './helpers/github'
import type { FakeGithub, GithubLogin } from './helpers/github'
import {
  OIDC_COOKIE,
  apiWithOidcEnv,
  call,
  callback,
  countRows,
  eventsOf,
  expectLoginError,
  fragmentOf,
} from './helpers/oidc'
import type { OidcAuth } from './helpers/oidc'
import { verificationTokenFor, verifyEmail } from './helpers/recovery'
import { expectError } from './helpers/requests'
import { decodeJwt, sha256Base64Url } from './helpers/tokens'

const GITHUB_ENV = {
  OIDC_PROVIDERS: '[{"id":"github","kind":"github","name":"GitHub","client_id":"Iv1.abc"}]',
  OIDC_CLIENT_SECRET_GITHUB: 'env-secret',
  APP_URL: 'http://localhost:8787',
}

/** A GitHub account with one address, primary and verified. */
const account = (email = uniqueEmail(), verified = true): GithubLogin => ({
  id: uniqueGithubId(),
  login: 'octocat',
  emails: [{ email, primary: true, verified, visibility: 'private' }],
})

const usersWithEmail = (email: string) =>
  countRows('SELECT COUNT(*) AS n FROM users WHERE email = ?1', email)

const identitiesOf = (userId: string) =>
  countRows('SELECT COUNT(*) AS n FROM oidc_identities WHERE user_id = ?1', userId)

const githubIdentities = (subject: string) =>
  env.DB.prepare(
    "SELECT user_id, subject, email FROM oidc_identities WHERE provider = 'github' AND subject = ?1"
  )
    .bind(subject)
    .all<{ user_id: string; subject: string; email: string | null }>()
    .then((result) => result.results)

/** Nothing at all was made: no account, no identity, no login code. */
const nothingCreated = async (before: () => Promise<number[]>, counts: number[]) => {
  expect(await before()).toEqual(counts)
}
const rowCounts = async () => [
  await countRows('SELECT COUNT(*) AS n FROM users'),
  await countRows('SELECT COUNT(*) AS n FROM oidc_identities'),
  await countRows('SELECT COUNT(*) AS n FROM oidc_login_codes'),
]

const registerVerified = async (auth: OidcAuth, email: string, verify = true) => {
  const res = await call(auth, '/auth/register', { json: { email, password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(201)
  const body = (await res.json()) as { access_token: string; user: { id: string } }
  if (verify) expect((await verifyEmail(await verificationTokenFor(email))).status).toBe(200)
  return body
}

/** The start, GitHub, and the callback with the callback URL bent by `tamper`. */
const tamperedCallback = async (
  auth: OidcAuth,
  github: FakeGithub,
  tamper: (back: URL) => void,
  login: GithubLogin = account()
) => {
  const begun = await startGithub(auth)
  const back = github.authorize(begun.location, login)
  tamper(back)
  return callback(auth, back, begun.secret)
}

describe('GET /auth/oidc/github/start', () => {
  it("sends the browser to GitHub's authorize page with state and PKCE S256, and no nonce", async () => {
    const { github, auth } = withGithub()
    const res = await call(auth, '/auth/oidc/github/start?return_to=%2Fnotes')

    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('Location') ?? '')
    expect(`${url.origin}${url.pathname}`).toBe(AUTHORIZE_URL)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: github.clientId,
      redirect_uri: 'https://auth.example.test/auth/oidc/github/callback',
      scope: 'user:email',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    })
    const cookie = res.headers.getSetCookie().find((header) => header.startsWith(OIDC_COOKIE))
    expect(cookie).toMatch(
      /^__Host-oidc=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/
    )
  })
})

describe('a sign-in through GitHub', () => {
  it('creates an account with the verified primary address, the identity being the numeric id', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const login: GithubLogin = {
      id: uniqueGithubId(),
      login: 'mona',
      emails: [
        { email: uniqueEmail(), primary: false, verified: true },
        { email, primary: true, verified: true, visibility: 'private' },
        { email: uniqueEmail(), primary: false, verified: false },
      ],
    }
    const body = await signInThroughGithub(auth, github, login)

    expect(body.user).toMatchObject({ email, email_verified: true })
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['fed'])
    // The id as a string; the login name is stored nowhere.
    expect(await githubIdentities(String(login.id))).toEqual([
      { user_id: body.user.id, subject: String(login.id), email },
    ])
    expect(
      await countRows("SELECT COUNT(*) AS n FROM oidc_identities WHERE subject = 'mona'")
    ).toBe(0)
    expect(await eventsOf(body.user.id)).toEqual([
      { type: 'identity_linked', method: null, session_id: null },
      { type: 'login', method: 'fed', session_id: expect.any(String) },
    ])
    const identities = await call(auth, '/auth/identities', { token: body.access_token })
    expect(await identities.json()).toEqual({
      identities: [
        { id: expect.any(String), provider: 'github', email, created_at: expect.any(String) },
      ],
    })
  })

  it('sends GitHub the PKCE verifier, the client secret and the headers its API wants', async () => {
    const { github, auth } = withGithub()
    const begun = await startGithub(auth)
    const challenge = new URL(begun.location).searchParams.get('code_challenge')
    const back = github.authorize(begun.location, account())
    expect(fragmentOf(await callback(auth, back, begun.secret)).name).toBe('login')

    expect(github.seen.map(({ method, url }) => `${method} ${url}`).sort()).toEqual(
      [`GET ${EMAILS_URL}`, `GET ${USER_URL}`, `POST ${TOKEN_URL}`].sort()
    )
    const token = github.seen.find(({ url }) => url === TOKEN_URL)!
    expect(token.headers.get('Accept')).toBe('application/json')
    expect(token.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded')
    expect(token.headers.get('Authorization')).toBeNull()
    const verifier = token.form.get('code_verifier') ?? ''
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await sha256Base64Url(verifier)).toBe(challenge)
    expect(Object.fromEntries(token.form)).toEqual({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code'),
      redirect_uri: 'https://auth.example.test/auth/oidc/github/callback',
      code_verifier: verifier,
      client_id: github.clientId,
      client_secret: github.clientSecret,
    })
    for (const api of github.seen.filter(({ url }) => url !== TOKEN_URL)) {
      expect(api.headers.get('Authorization')).toMatch(/^Bearer gho_[0-9a-f]{32}$/)
      expect(api.headers.get('User-Agent')).toBe('edge-jwt-auth')
      expect(api.headers.get('X-GitHub-Api-Version')).toBe('2022-11-28')
      expect(api.headers.get('Accept')).toBe('application/vnd.github+json')
    }
  })

  it('signs the same GitHub id into the same account after the login name and the address changed', async () => {
    const { github, auth } = withGithub()
    const first = account()
    const before = await signInThroughGithub(auth, github, first)
    const after = await signInThroughGithub(auth, github, {
      ...account(),
      id: first.id,
      login: 'renamed',
    })
    expect(after.user.id).toBe(before.user.id)
  })

  it('does not take another account for the same login name under another id', async () => {
    const { github, auth } = withGithub()
    const before = await signInThroughGithub(auth, github, { ...account(), login: 'same-name' })
    const other = await signInThroughGithub(auth, github, { ...account(), login: 'same-name' })
    expect(other.user.id).not.toBe(before.user.id)
  })

  it('links a verified local account with the same verified primary address', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const { user } = await registerVerified(auth, email)
    const body = await signInThroughGithub(auth, github, account(email.toUpperCase()))
    expect(body.user.id).toBe(user.id)
    expect(await identitiesOf(user.id)).toBe(1)
    expect(await usersWithEmail(email)).toBe(1)
  })

  it('links from a signed-in account and answers #linked=github', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const { access_token: token, user } = await registerVerified(auth, email, false)
    const res = await call(auth, '/auth/oidc/github/link', { token, method: 'POST' })
    expect(res.status).toBe(200)
    const { url } = (await res.json()) as { url: string }
    const secret = res.headers
      .getSetCookie()
      .find((header) => header.startsWith(OIDC_COOKIE))!
      .slice(OIDC_COOKIE.length + 1)
      .split(';')[0]
    const login = account(uniqueEmail(), false)
    const back = github.authorize(url, login)
    expect(fragmentOf(await callback(auth, back, secret))).toEqual({
      path: '/',
      name: 'linked',
      value: 'github',
    })
    expect((await githubIdentities(String(login.id))).map((row) => row.user_id)).toEqual([user.id])
  })
})

describe('an address GitHub does not vouch for as the primary one', () => {
  it('an unverified primary matching a verified local account: account_exists, nothing linked', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const { user } = await registerVerified(auth, email)
    const counts = await rowCounts()
    expectLoginError(await signInAtGithub(auth, github, account(email, false)), 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
    await nothingCreated(rowCounts, counts)
  })

  it('a verified primary matching an unverified local account: account_exists, nothing linked', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const { user } = await registerVerified(auth, email, false)
    expectLoginError(await signInAtGithub(auth, github, account(email)), 'account_exists')
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('a verified address that is not the primary never reaches the local account that has it', async () => {
    const { github, auth } = withGithub()
    const email = uniqueEmail()
    const { user } = await registerVerified(auth, email)
    const primary = uniqueEmail()
    // GitHub vouches for the local account's address, but as a secondary one: it is ignored.
    const body = await signInThroughGithub(auth, github, {
      id: uniqueGithubId(),
      emails: [
        { email, primary: false, verified: true },
        { email: primary, primary: true, verified: false },
      ],
    })
    expect(body.user.id).not.toBe(user.id)
    expect(body.user).toMatchObject({ email: primary, email_verified: false })
    expect(await identitiesOf(user.id)).toBe(0)
  })

  it('no primary address (or two): provider_error for a new identity, nothing created', async () => {
    const { github, auth } = withGithub()
    const counts = await rowCounts()
    expectLoginError(
      await signInAtGithub(auth, github, {
        id: uniqueGithubId(),
        emails: [{ email: uniqueEmail(), primary: false, verified: true }],
      }),
      'provider_error'
    )
    expectLoginError(
      await signInAtGithub(auth, github, {
        id: uniqueGithubId(),
        emails: [
          { email: uniqueEmail(), primary: true, verified: true },
          { email: uniqueEmail(), primary: true, verified: true },
        ],
      }),
      'provider_error'
    )
    await nothingCreated(rowCounts, counts)
  })
})

describe('the callback refuses, and creates nothing', () => {
  it("GitHub's 200 answer with an error (bad_verification_code): provider_error", async () => {
    const { github, auth } = withGithub()
    const login = account()
    const counts = await rowCounts()
    const res = await tamperedCallback(
      auth,
      github,
      (back) => {
        back.searchParams.set('code', 'not-issued')
      },
      login
    )
    expectLoginError(res, 'provider_error')
    // The token endpoint did answer 200, with the error in the body.
    expect(github.seen.map(({ url }) => url)).toEqual([TOKEN_URL])
    await nothingCreated(rowCounts, counts)
    expect(await usersWithEmail(login.emails![0].email)).toBe(0)
  })

  it('a client secret GitHub does not know (incorrect_client_credentials, a 200 too)', async () => {
    const github = startFakeGithub()
    const auth = githubAuth(github, { clientSecret: 'stale-secret' })
    const counts = await rowCounts()
    expectLoginError(await signInAtGithub(auth, github, account()), 'provider_error')
    await nothingCreated(rowCounts, counts)
  })

  it('a replayed callback: the state is single use', async () => {
    const { github, auth } = withGithub()
    const begun = await startGithub(auth)
    const back = github.authorize(begun.location, account())
    expect(fragmentOf(await callback(auth, back, begun.secret)).name).toBe('login')
    const counts = await rowCounts()
    expectLoginError(await callback(auth, back, begun.secret), 'invalid_state')
    await nothingCreated(rowCounts, counts)
    // The replay never reached GitHub: one token request, for the first callback.
    expect(github.seen.filter(({ url }) => url === TOKEN_URL)).toHaveLength(1)
  })

  it('a tampered state', async () => {
    const { github, auth } = withGithub()
    const counts = await rowCounts()
    const res = await tamperedCallback(auth, github, (back) => {
      const state = back.searchParams.get('state') ?? ''
      back.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`)
    })
    expectLoginError(res, 'invalid_state')
    expect(github.seen).toEqual([])
    await nothingCreated(rowCounts, counts)
  })

  it('a callback without the cookie', async () => {
    const { github, auth } = withGithub()
    const begun = await startGithub(auth)
    const back = github.authorize(begun.location, account())
    const counts = await rowCounts()
    expectLoginError(await callback(auth, back, null), 'invalid_state')
    expect(github.seen).toEqual([])
    await nothingCreated(rowCounts, counts)
    // The state was not burnt: the browser that has the cookie still signs in.
    expect(fragmentOf(await callback(auth, back, begun.secret)).name).toBe('login')
  })

  it('the user refused at GitHub (error=access_denied)', async () => {
    const { github, auth } = withGithub()
    const res = await tamperedCallback(auth, github, (back) => {
      back.searchParams.delete('code')
      back.searchParams.set('error', 'access_denied')
    })
    expectLoginError(res, 'provider_error')
    expect(github.seen).toEqual([])
  })

  it.each<[string, () => Response]>([
    ['is not JSON', () => new Response('<html>Unicorn!</html>', { status: 200 })],
    ['is over 64 KiB', () => Response.json({ id: 1, login: 'big', bio: 'x'.repeat(70 * 1024) })],
    ['names no id, only a login', () => Response.json({ login: 'octocat' })],
    ['has the id as a string', () => Response.json({ id: '12345', login: 'octocat' })],
    ['has a fractional id', () => Response.json({ id: 1.5, login: 'octocat' })],
    ['is an error status', () => Response.json({ message: 'Server Error' }, { status: 502 })],
  ])('GET /user that %s: provider_error', async (_name, user) => {
    const { github, auth } = withGithub()
    const login = { ...account(), user }
    const counts = await rowCounts()
    expectLoginError(await signInAtGithub(auth, github, login), 'provider_error')
    await nothingCreated(rowCounts, counts)
    expect(await usersWithEmail(login.emails![0].email)).toBe(0)
  })
  it.each<[string, () => Response]>([
    ['is an object, not a list', () => Response.json({ email: 'a@example.com', primary: true })],
    ['is not JSON', () => new Response('[{"email":', { status: 200 })],
    ['is over 64 KiB', () => Response.json([{ email: `${'x'.repeat(70 * 1024)}@example.com` }])],
  ])('GET /user/emails that %s: provider_error', async (_name, emailsAnswer) => {
    const { github, auth } = withGithub()
    const counts = await rowCounts()
    expectLoginError(
      await signInAtGithub(auth, github, { ...account(), emailsAnswer }),
      'provider_error'
    )
    await nothingCreated(rowCounts, counts)
  })
})

describe('OIDC_PROVIDERS with a github entry', () => {
  it('reads it with its fixed endpoints, the default scope and the secret OIDC_CLIENT_SECRET_GITHUB', () => {
    expect(oidcOptionsFromEnv(GITHUB_ENV)).toEqual({
      providers: [
        {
          id: 'github',
          kind: 'github',
          name: 'GitHub',
          clientId: 'Iv1.abc',
          clientSecret: 'env-secret',
          scopes: 'user:email',
        },
      ],
    })
  })

  it.each([
    [
      'an issuer',
      '[{"id":"github","kind":"github","issuer":"https://github.com","client_id":"c"}]',
    ],
    [
      'an unknown kind',
      '[{"id":"gitlab","kind":"gitlab","issuer":"https://gitlab.com","client_id":"c"}]',
    ],
    [
      'scopes without user:email',
      '[{"id":"github","kind":"github","client_id":"c","scopes":"read:user"}]',
    ],
    [
      'an oidc entry asking for GitHub scopes',
      '[{"id":"a","issuer":"https://idp.example","client_id":"c","scopes":"user:email"}]',
    ],
  ])('answers 500 server_misconfigured for %s', async (_name, raw) => {
    const res = await apiWithOidcEnv({ ...GITHUB_ENV, OIDC_PROVIDERS: raw }, '/auth/oidc/providers')
    await expectError(res, 500, 'server_misconfigured')
  })

  it('answers 500 server_misconfigured without its client secret, naming the secret and not a value', async () => {
    const res = await apiWithOidcEnv(
      { ...GITHUB_ENV, OIDC_CLIENT_SECRET_GITHUB: '' },
      '/auth/oidc/github/start'
    )
    await expectError(res, 500, 'server_misconfigured')
    expect(() => oidcOptionsFromEnv({ OIDC_PROVIDERS: GITHUB_ENV.OIDC_PROVIDERS })).not.toThrow()
    expect(oidcOptionsFromEnv({ OIDC_PROVIDERS: GITHUB_ENV.OIDC_PROVIDERS })).toMatchObject({
      error: { message: expect.stringContaining('OIDC_CLIENT_SECRET_GITHUB') },
    })
  })

  it("is a button on the demo page, whose link starts GitHub's sign-in", async () => {
    const list = await apiWithOidcEnv(GITHUB_ENV, '/auth/oidc/providers')
    expect(await list.json()).toEqual({ providers: [{ id: 'github', name: 'GitHub' }] })
    // The page's link for that button: /auth/oidc/<id>/start.
    const res = await apiWithOidcEnv(GITHUB_ENV, '/auth/oidc/github/start')
    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('Location') ?? '')
    expect(`${url.origin}${url.pathname}`).toBe(AUTHORIZE_URL)
    expect(url.searchParams.get('client_id')).toBe('Iv1.abc')
  })
})
