/**
 * /oauth: the OAuth 2.0 token endpoint (refresh_token grant, RFC 6749 §6) and the revocation
 * endpoint (RFC 7009), for public clients. Both reuse the session logic of /auth; only the wire
 * format differs: form-encoded requests and `{error, error_description}` errors.
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import { InvalidRefreshToken } from '../auth/errors'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { apiErrorOf, handleError } from '../http/handle-error'
import { hasMediaType } from '../http/json-body'
import { OAuthError, renderOAuthError } from '../http/oauth-errors'
import { OAuthTokenResponse, RevokeForm, TokenGrantForm } from '../http/oauth-schemas'
import { recordEvent, recordRefreshReuse } from '../http/security-events'
import { oauthTokenResponse } from '../http/token-response'

const FORM_MEDIA_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i
const AUTH_SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)/

/** The parameters of a form body; RFC 6749 §3.2 forbids repeating one, §3.1 makes empty ones absent. */
const readForm = async (c: Context<AppEnv>): Promise<Map<string, string>> => {
  if (!hasMediaType(c.req.raw, FORM_MEDIA_TYPE)) {
    throw new OAuthError(
      'invalid_request',
      'The request body must be application/x-www-form-urlencoded'
    )
  }
  const form = new Map<string, string>()
  // Read as bytes: workerd warns when text() meets a form media type, and the form is UTF-8 anyway.
  const body = new TextDecoder().decode(await c.req.arrayBuffer())
  for (const [name, value] of new URLSearchParams(body)) {
    if (value === '') continue
    if (form.has(name)) throw new OAuthError('invalid_request', `The parameter ${name} is repeated`)
    form.set(name, value)
  }
  return form
}

/** Every client here is public (auth method "none"); one that tries to authenticate is misconfigured. */
const refuseClientCredentials = (c: Context<AppEnv>, form: Map<string, string>) => {
  const authorization = c.req.header('Authorization')
  if (authorization !== undefined) {
    // A scheme is a short token: only the header's start is looked at, however long it is.
    const scheme = AUTH_SCHEME.exec(authorization.slice(0, 64))?.[1] ?? 'Basic'
    throw new OAuthError('invalid_client', 'Clients of this server do not authenticate', {
      'WWW-Authenticate': `${scheme} realm="edge-jwt-auth"`,
    })
  }
  if (form.has('client_secret') || form.has('client_assertion')) {
    throw new OAuthError('invalid_client', 'Clients of this server do not authenticate')
  }
}

const requireParameter = (form: Map<string, string>, name: string): string => {
  const value = form.get(name)
  if (value === undefined) {
    throw new OAuthError('invalid_request', `The parameter ${name} is required`)
  }
  return value
}

export const oauthRoutes = new Hono<AppEnv>()
  .post('/token', endpoint(), async (c) => {
    const form = await readForm(c)
    refuseClientCredentials(c, form)
    const grantType = requireParameter(form, 'grant_type')
    if (grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', 'Only the refresh_token grant is supported')
    }
    const refreshToken = requireParameter(form, 'refresh_token')
    try {
      // The refresh reads the session together with its owner, so a deleted user fails there.
      return oauthTokenResponse(c, await c.var.services.sessions.refresh(refreshToken))
    } catch (error) {
      recordRefreshReuse(c, error)
      if (error instanceof InvalidRefreshToken) {
        // The same words as /auth/refresh would use, in OAuth's shape.
        throw new OAuthError('invalid_grant', apiErrorOf(error)?.message ?? error.message)
      }
      throw error
    }
  })
  .post('/revoke', endpoint(), async (c) => {
    const form = await readForm(c)
    refuseClientCredentials(c, form)
    // token_type_hint is accepted and needs no reading: the token's shape tells its kind.
    const ended = await c.var.services.sessions.revokeToken(requireParameter(form, 'token'))
    if (ended) recordEvent(c, { type: 'session_revoked', ...ended })
    return c.body(null, 200)
  })
  .onError((error, c) =>
    error instanceof OAuthError ? renderOAuthError(c, error) : handleError(error, c)
  )

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const oauthDocs = {
  'POST /oauth/token': {
    summary: 'OAuth 2.0 refresh_token grant (RFC 6749 §6); rotates like /auth/refresh',
    tag: 'oauth',
    form: TokenGrantForm,
    success: {
      status: 200,
      description: 'A new token pair',
      body: OAuthTokenResponse,
      headers: ['Cache-Control', 'Pragma'],
    },
    oauthErrors: ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_client'],
    errors: ['server_misconfigured', 'service_unavailable'],
  },
  'POST /oauth/revoke': {
    summary: 'OAuth 2.0 token revocation (RFC 7009); ends the session of the token',
    tag: 'oauth',
    form: RevokeForm,
    success: { status: 200, description: 'Revoked, or the token was not valid (RFC 7009 §2.2)' },
    oauthErrors: ['invalid_request', 'invalid_client'],
    errors: ['server_misconfigured', 'service_unavailable'],
  },
} satisfies RouteDocs
