/** /.well-known: the public signing keys (JWKS) and the OAuth 2.0 authorization server metadata. */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { ApiError } from '../http/errors'
import { AuthorizationServerMetadata, JwksResponse } from '../http/oauth-schemas'
import { isLoopbackHost } from '../options'

/**
 * Verifiers may cache keys this long, so a new key must be published this long before a verifier
 * that caches strictly sees a token it signed (docs/keys-and-oauth.md).
 */
const PUBLIC_MAX_AGE = 300

/**
 * RFC 8414 §3.3: the metadata's issuer is the tokens' `iss` (JWT_ISSUER), an https URL, so that a
 * client verifying a token against the discovered issuer accepts it. Plain http only on a loopback
 * host (local development). Any other JWT_ISSUER (the default `edge-jwt-auth`) publishes no
 * metadata: a 404, as §3.2 answers metadata that is not available. Never the Host header, which a
 * client chooses.
 */
const publishableIssuer = (issuer: string): string | null => {
  if (!URL.canParse(issuer)) return null
  const url = new URL(issuer)
  const secure =
    url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
  // §2: no query or fragment; the endpoints below are the issuer's path plus theirs.
  return secure && !url.search && !url.hash && !issuer.endsWith('/') ? issuer : null
}

const authorizationServerMetadata = (issuer: string) => ({
  issuer,
  token_endpoint: `${issuer}/oauth/token`,
  revocation_endpoint: `${issuer}/oauth/revoke`,
  jwks_uri: `${issuer}/.well-known/jwks.json`,
  // No authorization endpoint: sessions begin with /auth/login, OAuth only refreshes and revokes.
  response_types_supported: [] as string[],
  grant_types_supported: ['refresh_token'],
  token_endpoint_auth_methods_supported: ['none'],
  revocation_endpoint_auth_methods_supported: ['none'],
})

export const wellKnownRoutes = new Hono<AppEnv>()
  .get('/jwks.json', endpoint(), (c) => {
    const keys = c.var.services.publicSigningKeys()
    c.header('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE}`)
    return c.json({ keys }, 200)
  })
  .get('/oauth-authorization-server', endpoint(), (c) => {
    const issuer = publishableIssuer(c.var.services.options.issuer)
    if (!issuer) throw new ApiError('not_found', { message: 'JWT_ISSUER is not an https URL.' })
    c.header('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE}`)
    return c.json(authorizationServerMetadata(issuer), 200)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const wellKnownDocs = {
  'GET /.well-known/jwks.json': {
    summary: 'Public keys that verify access tokens (empty for HS256)',
    tag: 'oauth',
    success: {
      status: 200,
      description: 'The JWK set',
      body: JwksResponse,
      headers: ['Cache-Control'],
    },
    errors: ['server_misconfigured'],
  },
  'GET /.well-known/oauth-authorization-server': {
    summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
    tag: 'oauth',
    success: {
      status: 200,
      description: 'The metadata',
      body: AuthorizationServerMetadata,
      headers: ['Cache-Control'],
    },
    errors: ['not_found'],
  },
} satisfies RouteDocs
