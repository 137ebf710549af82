/**
 * /auth/oidc/* and /auth/identities: the browser's trip through the provider (start, callback),
 * the login code's exchange for tokens, and the signed-in account's identities.
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { EmailNotVerified, Misconfigured } from '../../auth/errors'
import type { AppEnv } from '../../env'
import { isCrossSiteRequest, setHostCookie } from '../../http/cookies'
import { endpoint } from '../../http/endpoint'
import type { RouteDocs } from '../../http/endpoint'
import { ApiError } from '../../http/errors'
import type { ErrorCode } from '../../http/errors'
import { IssuedTokensResponse } from '../../http/schemas'
import { recordEvent } from '../../http/security-events'
import { signInResponse } from '../../http/token-response'
import { userAgentOf } from '../../http/user-agent'
import { mfaRequired } from '../../routes/auth'
import type { ProviderConfig } from './config'
import { SignInFailed } from './errors'
import { STATE_SECONDS, beginFlow, completeFlow, redeemLoginCode } from './flow'
import type { OidcContext } from './flow'
import type { ProviderClient } from './provider-http'
import { ExchangeBody, IdentitiesResponse, LinkResponse, ProvidersResponse } from './schemas'

/** What the feature's setup hands its routes (`c.var.services.features.oidc`). */
export interface OidcServices {
  context: OidcContext
  /** The configured providers; throws Misconfigured when OIDC_PROVIDERS is invalid. */
  providers: () => readonly ProviderConfig[]
  /** The provider's client, or null for an id that is not configured. */
  client: (id: string) => ProviderClient | null
}

/**
 * The feature's own codes, registered by the feature. Cast rather than added to FeatureErrorCodes:
 * the published client's declarations never reach this folder (these routes are mounted at run
 * time, outside the typed app), so an augmentation would split ErrorCode in two.
 */
export const LAST_SIGN_IN_METHOD = 'last_sign_in_method' as ErrorCode

/** Binds the state to this browser: Lax, so that the provider's redirect back carries it. */
export const OIDC_COOKIE = '__Host-oidc'
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
  if (
    raw.length > MAX_RETURN_TO ||
    !RETURN_TO.test(raw) ||
    raw.includes('\\') ||
    raw.includes('#')
  ) {
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
  setHostCookie(c, OIDC_COOKIE, secret, STATE_SECONDS, 'Lax')
}

const clearBrowserSecret = (c: Context<AppEnv>) => {
  if (c.req.header('Cookie')?.includes(OIDC_COOKIE)) {
    setHostCookie(c, OIDC_COOKIE, '', 0, 'Lax')
  }
}

/** Our cookie's value, from one split of the header (linear; the first pair of the name wins). */
const browserSecretOf = (header: string | undefined): string | undefined => {
  const prefix = `${OIDC_COOKIE}=`
  return header
    ?.split(';')
    .map((pair) => pair.trim())
    .find((pair) => pair.startsWith(prefix))
    ?.slice(prefix.length)
}

// Pure, so that the docs table that calls it stays out of the bundle (src/http/endpoint.ts).
const redirect = /* @__NO_SIDE_EFFECTS__ */ (status: 302, description: string) => ({
  status,
  description,
  headers: ['Location', 'Set-Cookie'] as const,
})

export const oidcRoutes = new Hono<AppEnv>()
  .get('/oidc/providers', endpoint(), (c) =>
    c.json(
      {
        providers: oidcOf(c)
          .providers()
          .map(({ id, name }) => ({ id, name })),
      },
      200
    )
  )
  .get('/oidc/:provider/start', endpoint(), async (c) => {
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
      if (!(error instanceof SignInFailed)) throw error
      return c.redirect(`${appUrl}/#login_error=provider_error`, 302)
    }
  })
  .get('/oidc/:provider/callback', endpoint(), async (c) => {
    const client = clientFor(c)
    const appUrl = appUrlOf(c)
    try {
      const outcome = await completeFlow(oidcOf(c).context, client, {
        state: c.req.query('state'),
        code: c.req.query('code'),
        providerError: c.req.query('error') !== undefined,
        browserSecret: browserSecretOf(c.req.header('Cookie')),
        redirectUri: callbackUri(c),
      })
      if (outcome.linked) recordEvent(c, { type: 'identity_linked', userId: outcome.userId })
      const fragment =
        outcome.kind === 'login' ? `login=${outcome.code}` : `linked=${client.config.id}`
      return c.redirect(`${appUrl}${outcome.returnTo}#${fragment}`, 302)
    } catch (error) {
      // What is not the flow's own (a 503, a misconfiguration) is the usual JSON error.
      if (!(error instanceof SignInFailed)) throw error
      return c.redirect(`${appUrl}/#login_error=${error.code}`, 302)
    }
  })
  .post('/oidc/exchange', endpoint({ cookieMode: true, body: ExchangeBody }), async (c) => {
    const { services } = c.var
    services.options.signer.check()
    const signIn = await redeemLoginCode(
      oidcOf(c).context,
      c.req.valid('json').code,
      browserSecretOf(c.req.header('Cookie'))
    )
    const user = await services.ports.users.findById(signIn.userId)
    if (!user) throw new ApiError('invalid_one_time_token')
    // As at login: with REQUIRE_EMAIL_VERIFICATION, an unverified address gets no session.
    if (services.options.requireEmailVerification && user.email_verified_at === null) {
      throw new EmailNotVerified()
    }
    // The code was this browser's: it goes, as at the callback's state.
    clearBrowserSecret(c)
    // A provider is a first factor like a password: an account's second factor is still asked.
    const outcome = await services.signIn.complete(signIn, user, { userAgent: userAgentOf(c) })
    if (outcome.kind === 'session') {
      const { sessionId } = outcome.tokens
      recordEvent(c, { type: 'login', userId: user.id, sessionId, method: 'fed' })
    }
    return signInResponse(c, outcome, 200)
  })
  .post('/oidc/:provider/link', endpoint({ auth: true, fresh: true }), async (c) => {
    const client = clientFor(c)
    appUrlOf(c)
    const user = await c.var.services.ports.users.findById(c.get('auth').userId)
    if (!user) throw new ApiError('not_found')
    try {
      const { url, browserSecret } = await beginFlow(oidcOf(c).context, client, {
        returnTo: '/',
        redirectUri: callbackUri(c),
        link: user,
      })
      setBrowserSecret(c, browserSecret)
      return c.json({ url }, 200)
    } catch (error) {
      if (error instanceof SignInFailed) throw new ApiError('service_unavailable')
      throw error
    }
  })
  .get('/identities', endpoint({ auth: true }), async (c) => {
    const identities = await oidcOf(c).context.store.listIdentities(c.get('auth').userId)
    return c.json({ identities }, 200)
  })
  .delete('/identities/:id', endpoint({ auth: true, fresh: true }), async (c) => {
    const outcome = await oidcOf(c).context.store.unlinkIdentity(
      c.get('auth').userId,
      c.req.param('id')
    )
    if (outcome === 'gone') throw new ApiError('not_found')
    if (outcome === 'last') throw new ApiError(LAST_SIGN_IN_METHOD)
    recordEvent(c, { type: 'identity_unlinked', userId: c.get('auth').userId })
    return c.body(null, 204)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const oidcRouteDocs = {
  'GET /auth/oidc/providers': {
    summary: 'The identity providers',
    tag: 'auth',
    success: { status: 200, description: 'Ids and names', body: ProvidersResponse },
    errors: ['server_misconfigured'],
  },
  'GET /auth/oidc/:provider/start': {
    summary: "Go to the provider's sign-in page",
    tag: 'auth',
    query: { return_to: 'A path on APP_URL' },
    success: redirect(302, 'To the provider'),
    errors: ['validation_failed', 'not_found', 'server_misconfigured', 'service_unavailable'],
  },
  'GET /auth/oidc/:provider/callback': {
    summary: 'Where the provider sends the browser back',
    tag: 'auth',
    query: { code: 'From the provider', state: 'From the start' },
    success: redirect(302, 'To APP_URL with #login=, #linked= or #login_error='),
    errors: ['not_found', 'server_misconfigured', 'service_unavailable'],
  },
  'POST /auth/oidc/exchange': {
    summary: 'Trade a login code for a session',
    tag: 'auth',
    success: {
      status: 200,
      description: 'A new session',
      body: IssuedTokensResponse,
      headers: ['Cache-Control', 'Pragma', 'Set-Cookie'],
    },
    alsoSuccess: [mfaRequired],
    errors: [
      'invalid_one_time_token',
      'invalid_credentials',
      'email_not_verified',
      'server_misconfigured',
      'service_unavailable',
    ],
  },
  'POST /auth/oidc/:provider/link': {
    summary: 'Start linking an identity (fresh sign-in)',
    tag: 'auth',
    success: {
      status: 200,
      description: 'Where to send the browser',
      body: LinkResponse,
      headers: ['Set-Cookie'],
    },
    errors: ['not_found', 'server_misconfigured'],
  },
  'GET /auth/identities': {
    summary: 'Linked identities',
    tag: 'auth',
    success: { status: 200, description: 'Oldest first', body: IdentitiesResponse },
  },
  'DELETE /auth/identities/:id': {
    summary: 'Unlink an identity (fresh sign-in)',
    tag: 'auth',
    success: { status: 204, description: 'Unlinked' },
    errors: ['not_found', LAST_SIGN_IN_METHOD],
  },
} satisfies RouteDocs
