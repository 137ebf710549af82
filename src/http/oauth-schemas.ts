/**
 * The wire shapes of the OAuth and JWKS routes, for the OpenAPI document. The form parameters are
 * checked by hand in routes/oauth.ts, because OAuth decides the error code by which rule failed.
 * An empty value counts as absent (RFC 6749 §3.1): a required one has `minLength: 1`.
 */
import * as v from 'valibot'

export const TokenGrantForm = v.object({
  grant_type: v.literal('refresh_token'),
  refresh_token: v.pipe(v.string(), v.minLength(1)),
  client_id: v.optional(v.string()),
  scope: v.optional(
    v.pipe(v.string(), v.description('Accepted and ignored: tokens carry no scopes.'))
  ),
})

export const RevokeForm = v.object({
  token: v.pipe(
    v.string(),
    v.minLength(1),
    v.description('A refresh token or an access token; either ends its session.')
  ),
  token_type_hint: v.optional(
    v.pipe(v.string(), v.description('`refresh_token` or `access_token`; any value is ignored.'))
  ),
  client_id: v.optional(v.string()),
})

export const OAuthTokenResponse = v.object({
  access_token: v.string(),
  token_type: v.literal('Bearer'),
  expires_in: v.number(),
  refresh_token: v.string(),
})

export const OAuthErrorResponse = v.object({
  error: v.picklist([
    'invalid_request',
    'invalid_client',
    'invalid_grant',
    'unsupported_grant_type',
  ]),
  error_description: v.string(),
})

export const JwksResponse = v.object({
  keys: v.array(
    v.object({
      kty: v.picklist(['OKP', 'EC']),
      crv: v.picklist(['Ed25519', 'P-256']),
      x: v.string(),
      y: v.optional(v.string()),
      kid: v.string(),
      alg: v.picklist(['EdDSA', 'ES256']),
      use: v.literal('sig'),
    })
  ),
})

export const AuthorizationServerMetadata = v.object({
  issuer: v.string(),
  token_endpoint: v.string(),
  revocation_endpoint: v.string(),
  jwks_uri: v.string(),
  response_types_supported: v.array(v.string()),
  grant_types_supported: v.array(v.string()),
  token_endpoint_auth_methods_supported: v.array(v.string()),
  revocation_endpoint_auth_methods_supported: v.array(v.string()),
})
