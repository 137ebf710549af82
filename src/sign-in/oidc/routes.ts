/**
 * /auth/oidc/* and /auth/identities: the browser's trip through the provider (start, callback),
 * the login code's exchange for tokens, and the signed-in account's identities.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { Misconfigured } from '../../auth/errors'
import { sanitizeUserAgent } from '../../auth/sessions'
import { nowSeconds } from '../../clock'
import type { AppEnv } from '../../env'
import { isCrossSiteRequest } from '../../http/cookies'
import { endpoint } from '../../http/endpoint'
import { ApiError } from '../../http/errors'
import { IssuedTokensResponse } from '../../http/schemas'
import { tokenResponse } from '../../http/token-response'
import type { ProviderConfig } from './config'
import { AccountExists, InvalidIdToken, InvalidState, ProviderError } from './errors'
import { STATE_SECONDS, beginFlow, completeFlow, redeemLoginCode } from './flow'
import type { OidcContext } from './flow'
import type { ProviderClient } from './provider'
import {
  ExchangeBody,
  IdentitiesResponse,
  LinkBody,
  LinkResponse,
  ProvidersResponse,
} from './schemas'

declare module '../../http/errors' {
  interface FeatureErrorCodes {
    last_sign_in_method: 409
    reauthentication_required: 401
  }
}

/** What the feature's setup hands its routes (`c.var.services.features.oidc`). */
export interface OidcServices {
  context: OidcContext
  /** The configured providers; throws Misconfigured when OIDC_PROVIDERS is invalid. */
  providers: () => readonly ProviderConfig[]
  /** The provider's client, or null for an id that is not configured. */
  client: (id: string) => ProviderClient | null
}

/** Binds the state to this browser: Lax, so that the provider's redirect back carries it. */
export const OIDC_COOKIE = '__Host-oidc'
/** Changing how one signs in needs a proof this recent (seconds). */
const FRESH_SECONDS = 600
const RETURN_TO = /^\/(?![/\\])[\x21-\x7e]*$/
const MAX_RETURN_TO = 512

const oidcOf = (c: Context<AppEnv>) => c.var.services.features.oidc as OidcServices

const clientFor = (c: Context<AppEnv>): ProviderClient => {
  const client = oidcOf(c).client(c.req.param('provider') ?? '')
  if (!client) throw new ApiError('not_found')
  return client
}

const appUrlOf = (c: Context<AppEnv>): string => {
  const appUrl = c.var.services.options.mail.appUrl
  if (!appUrl) throw new Misconfigured('APP_URL is needed to sign in with a provider')
  return appUrl
}

/** A path on APP_URL: no scheme, no `//` or backslash that a browser would read as a host. */
const readReturnTo = (raw: string | undefined): string => {
  if (raw === undefined || raw === '') return '/'
  if (raw.length > MAX_RETURN_TO || !RETURN_TO.test(raw) || raw.includes('\\') || raw.includes('#')) {
    throw new ApiError('validation_failed', { details: { return_to: 'return_to must be a path' } })
  }
  return raw
}

/** The callback next to the route that asked (…/start, …/link): the same behind a host's prefix. */
const callbackUri = (c: Context<AppEnv>): string => {
  const url = new URL(c.req.url)
  return `${url.origin}${url.pathname.replace(/\/[^/]*$/, '/callback')}`
}

const setBrowserSecret = (c: Context<AppEnv>, secret: string) => {
  // The contract's rule for every cookie: none is set on a cross-site request's answer.
  if (isCrossSiteRequest(c)) return
  setCookie(c, OIDC_COOKIE, secret, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: STATE_SECONDS,
  })
}

const requireFreshSignIn = (c: Context<AppEnv>) => {
  if (nowSeconds() - c.get('auth').authTime <= FRESH_SECONDS) return
  throw new ApiError('reauthentication_required', {
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", max_age="${FRESH_SECONDS}"`,
    },
  })
}

/** The `#login_error` code of a failed callback; null for what is not the flow's own (a 503). */
const loginErrorOf = (error: unknown): string | null => {
  if (error instanceof InvalidState) return 'invalid_state'
  if (error instanceof ProviderError) return 'provider_error'
  if (error instanceof InvalidIdToken) return 'invalid_id_token'
  if (error instanceof AccountExists) return 'account_exists'
  return null
}

const redirect = (status: 302, description: string) => ({
  status,
  description,
  headers: ['Location', 'Set-Cookie'] as const,
})

const userAgentOf = (c: Context<AppEnv>) => ({
  userAgent: sanitizeUserAgent(c.req.header('User-Agent')),
})

export const oidcRoutes = new Hono<AppEnv>()
  .get(
    '/oidc/providers',
    endpoint({
      summary: 'The identity providers one may sign in with',
      tag: 'auth',
      success: { status: 200, description: 'Their ids and names', body: ProvidersResponse },
      errors: ['server_misconfigured'],
    }),
    (c) =>
      c.json(
        { providers: oidcOf(c).providers().map(({ id, name }) => ({ id, name })) },
        200
      )
  )
  .get(
    '/oidc/:provider/start',
    endpoint({
      summary: "Go to the provider's sign-in page",
      description:
        'Sets the `__Host-oidc` cookie; a provider that cannot be reached sends the browser to `APP_URL/#login_error=provider_error`.',
      tag: 'auth',
      query: { return_to: 'A path on APP_URL to come back to (`/` by default).' },
      success: redirect(302, "To the provider's authorization endpoint"),
      errors: ['validation_failed', 'not_found', 'server_misconfigured', 'service_unavailable'],
    }),
    async (c) => {
      const client = clientFor(c)
      const returnTo = readReturnTo(c.req.query('return_to'))
      const appUrl = appUrlOf(c)
      try {
        const { url, browserSecret } = await beginFlow(oidcOf(c).context, client, {
          returnTo,
          redirectUri: callbackUri(c),
          link: null,
        })
        setBrowserSecret(c, browserSecret)
        return c.redirect(url, 302)
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error
        return c.redirect(`${appUrl}/#login_error=provider_error`, 302)
      }
    }
  )
  .get(
    '/oidc/:provider/callback',
    endpoint({
      summary: 'Where the provider sends the browser back',
      description:
        'To `APP_URL<return_to>#login=<code>` (or `#linked=<provider>` after a link), or to `APP_URL/#login_error=<code>`: `invalid_state`, `provider_error`, `invalid_id_token`, `account_exists`.',
      tag: 'auth',
      query: { code: "The provider's authorization code", state: 'The state sent at the start' },
      success: redirect(302, 'Back to the app, with a login code or an error code'),
      errors: ['not_found', 'server_misconfigured', 'service_unavailable'],
    }),
    async (c) => {
      const client = clientFor(c)
      const appUrl = appUrlOf(c)
      try {
        const outcome = await completeFlow(oidcOf(c).context, client, {
          state: c.req.query('state'),
          code: c.req.query('code'),
          providerError: c.req.query('error') !== undefined,
          browserSecret: getCookie(c, OIDC_COOKIE),
          redirectUri: callbackUri(c),
        })
        const fragment =
          outcome.kind === 'login' ? `login=${outcome.code}` : `linked=${client.config.id}`
        return c.redirect(`${appUrl}${outcome.returnTo}#${fragment}`, 302)
      } catch (error) {
        const code = loginErrorOf(error)
        if (code === null) throw error
        return c.redirect(`${appUrl}/#login_error=${code}`, 302)
      }
    }
  )
  .post(
    '/oidc/exchange',
    endpoint({
      summary: 'Trade a one-time login code for a session',
      tag: 'auth',
      cookieMode: true,
      body: ExchangeBody,
      success: {
        status: 200,
        description: 'A new session has begun (amr ["fed"])',
        body: IssuedTokensResponse,
        headers: ['Cache-Control', 'Pragma', 'Set-Cookie'],
      },
      errors: [
        'invalid_one_time_token',
        'invalid_credentials',
        'server_misconfigured',
        'service_unavailable',
      ],
    }),
    async (c) => {
      const { services } = c.var
      services.options.signer.check()
      const signIn = await redeemLoginCode(oidcOf(c).context, c.req.valid('json').code)
      const user = await services.ports.users.findById(signIn.userId)
      if (!user) throw new ApiError('invalid_one_time_token')
      const tokens = await services.sessions.start(signIn, userAgentOf(c))
      return tokenResponse(c, 200, user, tokens)
    }
  )
  .post(
    '/oidc/:provider/link',
    endpoint({
      summary: 'Start linking a provider identity to this account',
      description: 'Needs a sign-in within the last 10 minutes. Sets the `__Host-oidc` cookie.',
      tag: 'auth',
      auth: true,
      body: LinkBody,
      bodyRequired: false,
      success: {
        status: 200,
        description: 'The URL to send the browser to',
        body: LinkResponse,
        headers: ['Set-Cookie'],
      },
      errors: ['reauthentication_required', 'not_found', 'server_misconfigured'],
    }),
    async (c) => {
      requireFreshSignIn(c)
      const client = clientFor(c)
      const returnTo = readReturnTo(c.req.valid('json').return_to)
      appUrlOf(c)
      const user = await c.var.services.ports.users.findById(c.get('auth').userId)
      if (!user) throw new ApiError('not_found')
      try {
        const { url, browserSecret } = await beginFlow(oidcOf(c).context, client, {
          returnTo,
          redirectUri: callbackUri(c),
          link: user,
        })
        setBrowserSecret(c, browserSecret)
        return c.json({ url }, 200)
      } catch (error) {
        if (error instanceof ProviderError) throw new ApiError('service_unavailable')
        throw error
      }
    }
  )
  .get(
    '/identities',
    endpoint({
      summary: "The account's linked provider identities",
      tag: 'auth',
      auth: true,
      success: { status: 200, description: 'Oldest first', body: IdentitiesResponse },
    }),
    async (c) => {
      const rows = await oidcOf(c).context.store.listIdentities(c.get('auth').userId)
      const identities = rows.map(({ id, provider, email, created_at }) => ({
        id,
        provider,
        email,
        created_at,
      }))
      return c.json({ identities }, 200)
    }
  )
  .delete(
    '/identities/:id',
    endpoint({
      summary: 'Unlink a provider identity',
      description: 'Needs a sign-in within the last 10 minutes.',
      tag: 'auth',
      auth: true,
      success: { status: 204, description: 'Unlinked' },
      errors: ['reauthentication_required', 'not_found', 'last_sign_in_method'],
    }),
    async (c) => {
      requireFreshSignIn(c)
      const outcome = await oidcOf(c).context.store.unlinkIdentity(
        c.get('auth').userId,
        c.req.param('id')
      )
      if (outcome === 'gone') throw new ApiError('not_found')
      if (outcome === 'last') throw new ApiError('last_sign_in_method')
      return c.body(null, 204)
    }
  )
