/** The oidc feature over the test pool's D1 and KV with a test provider, and the browser's trip. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { expect } from 'vitest'
import type { CreateAuthOptions } from '../../src/create-auth'
import { DEFAULT_FEATURES } from '../../src/features'
import type { AuthPorts } from '../../src/ports'
import { oidcFeature } from '../../src/sign-in/oidc'
import type { ProviderConfig } from '../../src/sign-in/oidc'
import { createWorker } from '../../src/worker'
import { uniqueEmail } from './accounts'
import { fetchApp, testAuth } from './create-auth'
import { startTestProvider } from './identity-provider'
import type { Login, TestProvider, TestProviderOptions } from './identity-provider'
import { buildRequest } from './requests'
import type { RequestOptions } from './requests'

/** Loopback, so that the outbox transport runs: reset mails land in D1. */
export const APP_URL = 'http://localhost:8787'
export const OIDC_COOKIE = '__Host-oidc'

let issuers = 0
/** A fresh issuer per call: nothing cached for one test serves another. */
export const uniqueIssuer = () =>
  `https://idp${issuers++}-${crypto.randomUUID().slice(0, 8)}.example.test`

/** The Worker as a fork that registers the feature builds it: settings from the env. */
const oidcWorker = createWorker([...DEFAULT_FEATURES, oidcFeature]).app

/** A request to that Worker with some env values replaced (OIDC_PROVIDERS, a secret). */
export const apiWithOidcEnv = async (
  overrides: Record<string, unknown>,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => {
  const ctx = createExecutionContext()
  const res = await oidcWorker.fetch(buildRequest(path, options), { ...env, ...overrides }, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

export type OidcAuth = ReturnType<typeof testAuth>

export const oidcAuth = (
  provider: TestProvider,
  overrides: Partial<ProviderConfig> = {},
  options: Partial<CreateAuthOptions> = {},
  ports?: AuthPorts
) =>
  testAuth(
    {
      ...options,
      mail: { apiUrl: 'https://mail.example.test', transport: 'outbox', appUrl: APP_URL },
      features: options.features ?? [oidcFeature],
      featureOptions: {
        ...options.featureOptions,
        oidc: {
          providers: [
            {
              id: 'test',
              name: 'Test IdP',
              issuer: provider.issuer,
              clientId: provider.clientId,
              clientSecret: provider.clientSecret,
              scopes: 'openid email profile',
              ...overrides,
            },
          ],
        },
      },
    },
    ports
  )

/** POST …/link while signed in, then the provider: its redirect back, the cookie's secret, and the callback. */
export const link = async (auth: OidcAuth, provider: TestProvider, token: string, sub: string) => {
  const res = await call(auth, '/auth/oidc/test/link', { token, method: 'POST' })
  expect(res.status, await res.clone().text()).toBe(200)
  const { url } = (await res.json()) as { url: string }
  const cookie = res.headers.getSetCookie().find((header) => header.startsWith(OIDC_COOKIE))
  const secret = cookie?.slice(OIDC_COOKIE.length + 1).split(';')[0] ?? ''
  const back = await provider.authorize(url, { claims: { sub, email: uniqueEmail() } })
  return { back, secret, answer: () => callback(auth, back, secret) }
}

export const withProvider = async (options: Partial<TestProviderOptions> = {}) => {
  const provider = await startTestProvider({ issuer: uniqueIssuer(), ...options })
  return { provider, auth: oidcAuth(provider) }
}

export const call = (auth: OidcAuth, path: string, options: RequestOptions = {}) =>
  fetchApp(auth.app, path, options)

/** The path and query of a URL the worker is to serve. */
const local = (url: URL) => `${url.pathname}${url.search}`

/** GET …/start: the authorization URL and the browser secret cookie. */
export const start = async (auth: OidcAuth, returnTo?: string) => {
  const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`
  const res = await call(auth, `/auth/oidc/test/start${query}`)
  expect(res.status, await res.clone().text()).toBe(302)
  const cookie = res.headers.getSetCookie().find((header) => header.startsWith(`${OIDC_COOKIE}=`))
  expect(cookie).toBeDefined()
  const secret = cookie!.slice(OIDC_COOKIE.length + 1).split(';')[0]
  return { location: res.headers.get('Location') ?? '', secret, setCookie: cookie! }
}

/** The browser (its __Host-oidc secret) that each callback answer came to. */
const browserOfAnswer = new WeakMap<Response, string>()
/** The browser each login code was handed to: `exchange` sends that browser's cookie. */
const browserOfCode = new Map<string, string>()

/** The provider's redirect back, as the browser follows it (with or without its cookie). */
export const callback = async (auth: OidcAuth, url: URL, secret: string | null) => {
  const res = await call(
    auth,
    local(url),
    secret === null ? {} : { headers: { Cookie: `${OIDC_COOKIE}=${secret}` } }
  )
  if (secret !== null) browserOfAnswer.set(res, secret)
  return res
}

/** Start, sign in at the provider, come back: the callback's answer. */
export const signInAtProvider = async (
  auth: OidcAuth,
  provider: TestProvider,
  login: Login = {},
  returnTo?: string
) => {
  const begun = await start(auth, returnTo)
  const back = await provider.authorize(begun.location, login)
  return callback(auth, back, begun.secret)
}

/** The fragment of a callback's redirect to APP_URL: `login=<code>`, `login_error=<code>`, … */
export const fragmentOf = (res: Response): { path: string; name: string; value: string } => {
  expect(res.status, res.headers.get('Location') ?? '').toBe(302)
  const location = res.headers.get('Location') ?? ''
  expect(location.startsWith(`${APP_URL}/`), location).toBe(true)
  const [before, fragment = ''] = location.slice(APP_URL.length).split('#')
  const [name, value = ''] = fragment.split('=')
  const browser = browserOfAnswer.get(res)
  if (name === 'login' && browser) browserOfCode.set(value, browser)
  return { path: before, name, value }
}

/** The __Host-oidc cookie of the browser a login code was handed to. */
export const browserCookieOf = (code: string): string => {
  const browser = browserOfCode.get(code)
  expect(browser, 'a code from signInAtProvider').toBeDefined()
  return `${OIDC_COOKIE}=${browser}`
}

export const expectLoginError = (res: Response, code: string) => {
  expect(fragmentOf(res)).toEqual({ path: '/', name: 'login_error', value: code })
}

/**
 * POST /auth/oidc/exchange from the browser the code was handed to (its cookie), unless the
 * headers carry another Cookie (or an empty one: a browser without it).
 */
export const exchange = (auth: OidcAuth, code: string, headers: Record<string, string> = {}) => {
  const browser = browserOfCode.get(code)
  const cookie: Record<string, string> =
    browser === undefined ? {} : { Cookie: `${OIDC_COOKIE}=${browser}` }
  return call(auth, '/auth/oidc/exchange', { json: { code }, headers: { ...cookie, ...headers } })
}

/** The whole sign-in to a token response. */
export const signInThroughProvider = async (
  auth: OidcAuth,
  provider: TestProvider,
  login: Login = {}
) => {
  const fragment = fragmentOf(await signInAtProvider(auth, provider, login))
  expect(fragment.name, fragment.value).toBe('login')
  const res = await exchange(auth, fragment.value)
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as {
    access_token: string
    refresh_token: string
    user: { id: string; email: string; email_verified: boolean }
  }
}

export const countRows = async (sql: string, ...values: unknown[]): Promise<number> =>
  (
    await env.DB.prepare(sql)
      .bind(...values)
      .first<{ n: number }>()
  )?.n ?? 0

/** The account's security events, oldest first: type and method. */
export const eventsOf = async (userId: string) =>
  (
    await env.DB.prepare(
      'SELECT type, method, session_id FROM security_events WHERE user_id = ?1 ORDER BY id'
    )
      .bind(userId)
      .all<{ type: string; method: string | null; session_id: string | null }>()
  ).results
