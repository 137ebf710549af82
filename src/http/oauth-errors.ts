/**
 * OAuth 2.0 errors (RFC 6749 §5.2, RFC 7009 §2.2.1): `{error, error_description}`, the shape OAuth
 * client libraries parse. Only the /oauth routes use it; the JSON API keeps `{error, message}`.
 */
import type { Context } from 'hono'

const STATUSES = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unsupported_grant_type: 400,
} as const

export type OAuthErrorCode = keyof typeof STATUSES
export type OAuthErrorStatus = (typeof STATUSES)[OAuthErrorCode]

export interface OAuthErrorBody {
  error: OAuthErrorCode
  error_description: string
}

export const oauthErrorStatus = (code: OAuthErrorCode): number => STATUSES[code]

export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly headers: Record<string, string>

  constructor(code: OAuthErrorCode, description: string, headers: Record<string, string> = {}) {
    super(description)
    this.name = 'OAuthError'
    this.code = code
    this.headers = headers
  }
}

export const renderOAuthError = (c: Context, error: OAuthError): Response => {
  c.header('Cache-Control', 'no-store')
  const body: OAuthErrorBody = { error: error.code, error_description: error.message }
  return c.json(body, STATUSES[error.code], error.headers)
}
