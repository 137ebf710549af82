/** /.well-known: the public signing keys (JWKS) and the OAuth 2.0 authorization server metadata. */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import { AuthorizationServerMetadata, JwksResponse } from '../http/oauth-schemas'

/**
 * Verifiers may cache keys this long, so a new key must be published this long before a verifier
 * that caches strictly sees a token it signed (docs/keys-and-oauth.md).
 */
const PUBLIC_MAX_AGE = 300

/**
 * RFC 8414 metadata. The issuer is the origin the client asked, which is what the RFC and OAuth
 * libraries require it to be; JWT_ISSUER (the tokens' `iss`) should be set to the same URL.
 */
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
  .get(
    '/jwks.json',
    endpoint({
      summary: 'Public keys that verify access tokens (empty for HS256)',
      tag: 'oauth',
      success: {
        status: 200,
        description: 'The JWK set',
        body: JwksResponse,
        headers: ['Cache-Control'],
      },
      errors: ['server_misconfigured'],
    }),
    (c) => {
      const keys = c.var.services.publicSigningKeys()
      c.header('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE}`)
      return c.json({ keys }, 200)
    }
  )
  .get(
    '/oauth-authorization-server',
    endpoint({
      summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
      tag: 'oauth',
      success: {
        status: 200,
        description: 'The metadata',
        body: AuthorizationServerMetadata,
        headers: ['Cache-Control'],
      },
    }),
    (c) => {
      c.header('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE}`)
      return c.json(authorizationServerMetadata(new URL(c.req.url).origin), 200)
    }
  )
