/**
 * GitHub for unit tests: its token endpoint and its two API routes (GET /user, GET /user/emails)
 * answered by intercepting the worker's outbound fetch, as GitHub answers them: a refused code or
 * client is a 200 with `error`, without `Accept: application/json` the token comes form-encoded,
 * and the API wants a bearer token it issued and a User-Agent. Every request the worker sent is
 * kept, so that a test reads what went out (the verifier, the secret, the headers).
 */
import { expect, vi } from 'vitest'
import type { CreateAuthOptions } from '../../src/create-auth'
import { oidcFeature } from '../../src/sign-in/oidc'
import type { ProviderConfig } from '../../src/sign-in/oidc'
import { testAuth } from './create-auth'
import { APP_URL, OIDC_COOKIE, call, callback, exchange, fragmentOf } from './oidc'
import type { OidcAuth } from './oidc'
import { sha256Base64Url } from './tokens'

export const AUTHORIZE_URL = 'https://github.com/login/oauth/authorize'
export const TOKEN_URL = 'https://github.com/login/oauth/access_token'
export const USER_URL = 'https://api.github.com/user'
export const EMAILS_URL = 'https://api.github.com/user/emails'

export interface GithubEmail {
  email: string
  primary: boolean
  verified: boolean
  visibility?: 'public' | 'private' | null
}

/** Who signs in at GitHub, and how GitHub's answers are to be bent for an attack. */
export interface GithubLogin {
  id?: number
  login?: string
  emails?: GithubEmail[]
  /** Answers GET /user instead of the account (a broken or hostile answer). */
  user?: () => Response
  /** Answers GET /user/emails instead of `emails`. */
  emailsAnswer?: () => Response
}

interface IssuedCode {
  login: GithubLogin
  challenge: string
  redirectUri: string
}

/** One request the worker sent GitHub, as GitHub received it. */
export interface SeenRequest {
  url: string
  method: string
  headers: Headers
  form: URLSearchParams
}

let accounts = 1000
/** A GitHub account id no other test uses. */
export const uniqueGithubId = () => accounts++ + Math.floor(Math.random() * 1000) * 100_000

const refuse = (error: string) =>
  Response.json({ error, error_description: error, error_uri: 'https://docs.github.com' })

/** Starts intercepting GitHub's URLs; every other fetch goes out as usual. */
export const startFakeGithub = (options: { clientId?: string; clientSecret?: string } = {}) => {
  const clientId = options.clientId ?? 'Iv1.test-client'
  const clientSecret = options.clientSecret ?? 'github-client-secret'
  const codes = new Map<string, IssuedCode>()
  const tokens = new Map<string, GithubLogin>()
  const seen: SeenRequest[] = []

  const tokenResponse = async (request: Request): Promise<Response> => {
    const form = new URLSearchParams(await request.text())
    seen.push({ url: request.url, method: request.method, headers: request.headers, form })
    const code = form.get('code') ?? ''
    const issued = codes.get(code)
    codes.delete(code)
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return refuse('incorrect_client_credentials')
    }
    if (
      issued?.redirectUri !== form.get('redirect_uri') ||
      (await sha256Base64Url(form.get('code_verifier') ?? '')) !== issued?.challenge
    ) {
      return refuse('bad_verification_code')
    }
    const token = `gho_${crypto.randomUUID().replaceAll('-', '')}`
    tokens.set(token, issued.login)
    const answer = { access_token: token, token_type: 'bearer', scope: 'user:email' }
    if (request.headers.get('Accept') === 'application/json') return Response.json(answer)
    return new Response(new URLSearchParams(answer).toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
  }

  const apiResponse = (request: Request): Response => {
    seen.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      form: new URLSearchParams(),
    })
    if (!request.headers.get('User-Agent')) {
      return new Response('Request forbidden by administrative rules.', { status: 403 })
    }
    const login = tokens.get(request.headers.get('Authorization')?.replace(/^Bearer /, '') ?? '')
    if (!login) return Response.json({ message: 'Bad credentials' }, { status: 401 })
    if (request.url === USER_URL) {
      if (login.user) return login.user()
      return Response.json({ login: login.login ?? 'octocat', id: login.id ?? 1, type: 'User' })
    }
    return login.emailsAnswer ? login.emailsAnswer() : Response.json(login.emails ?? [])
  }

  const realFetch = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init)
    if (request.url === TOKEN_URL && request.method === 'POST') return tokenResponse(request)
    if ((request.url === USER_URL || request.url === EMAILS_URL) && request.method === 'GET') {
      return apiResponse(request)
    }
    if (
      request.url.startsWith('https://github.com/') ||
      request.url.startsWith('https://api.github.com/')
    ) {
      return new Response('not found', { status: 404 })
    }
    return realFetch(input, init)
  })

  return {
    clientId,
    clientSecret,
    seen,
    /**
     * The user signs in at GitHub: checks the authorization request the worker sent the browser
     * to, and returns the callback URL GitHub sends the browser back to.
     */
    authorize(authorizationUrl: string, login: GithubLogin = {}): URL {
      const url = new URL(authorizationUrl)
      expect(`${url.origin}${url.pathname}`).toBe(AUTHORIZE_URL)
      const params = url.searchParams
      expect(params.get('client_id')).toBe(clientId)
      expect(params.get('code_challenge_method')).toBe('S256')
      const code = crypto.randomUUID().replaceAll('-', '').slice(0, 20)
      codes.set(code, {
        login,
        challenge: params.get('code_challenge') ?? '',
        redirectUri: params.get('redirect_uri') ?? '',
      })
      const back = new URL(params.get('redirect_uri') ?? '')
      back.searchParams.set('code', code)
      back.searchParams.set('state', params.get('state') ?? '')
      return back
    },
  }
}

export type FakeGithub = ReturnType<typeof startFakeGithub>

/** The feature with one GitHub provider, id `github`, as OIDC_PROVIDERS would configure it. */
export const githubAuth = (
  github: FakeGithub,
  overrides: Partial<ProviderConfig> = {},
  options: Partial<CreateAuthOptions> = {}
) =>
  testAuth({
    ...options,
    mail: { apiUrl: 'https://mail.example.test', transport: 'outbox', appUrl: APP_URL },
    features: [oidcFeature],
    featureOptions: {
      oidc: {
        providers: [
          {
            id: 'github',
            kind: 'github',
            name: 'GitHub',
            clientId: github.clientId,
            clientSecret: github.clientSecret,
            scopes: 'user:email',
            ...overrides,
          } as ProviderConfig,
        ],
      },
    },
  })

export const withGithub = () => {
  const github = startFakeGithub()
  return { github, auth: githubAuth(github) }
}

/** GET /auth/oidc/github/start: the authorization URL and the browser secret cookie. */
export const startGithub = async (auth: OidcAuth, returnTo?: string) => {
  const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`
  const res = await call(auth, `/auth/oidc/github/start${query}`)
  expect(res.status, await res.clone().text()).toBe(302)
  const cookie = res.headers.getSetCookie().find((header) => header.startsWith(`${OIDC_COOKIE}=`))
  expect(cookie).toBeDefined()
  const secret = cookie!.slice(OIDC_COOKIE.length + 1).split(';')[0]
  return { location: res.headers.get('Location') ?? '', secret }
}

/** Start, sign in at GitHub, come back: the callback's answer. */
export const signInAtGithub = async (auth: OidcAuth, github: FakeGithub, login: GithubLogin) => {
  const begun = await startGithub(auth)
  return callback(auth, github.authorize(begun.location, login), begun.secret)
}

/** The whole sign-in to a token response. */
export const signInThroughGithub = async (
  auth: OidcAuth,
  github: FakeGithub,
  login: GithubLogin
) => {
  const fragment = fragmentOf(await signInAtGithub(auth, github, login))
  expect(fragment.name, fragment.value).toBe('login')
  const res = await exchange(auth, fragment.value)
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as {
    access_token: string
    user: { id: string; email: string; email_verified: boolean }
  }
}
