/** The shared pieces of the OpenAPI document: headers, error bodies and tags. */
import type { HeaderName } from '../http/endpoint'
import type { ErrorCode } from '../http/errors'
import type { OAuthErrorCode } from '../http/oauth-errors'

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  description,
  schema,
})

const HEADERS: Record<HeaderName, ReturnType<typeof header>> = {
  Allow: header('The methods this path serves.'),
  'Cache-Control': header('`no-store` unless the response is public (keys, metadata).'),
  Location: header('Where the browser goes next.'),
  Pragma: header('`no-cache` on token responses, for HTTP/1.0 caches (RFC 6749 §5.1).'),
  'Retry-After': header('Seconds to wait before trying again.', {
    type: 'string',
    pattern: '^[0-9]+$',
  }),
  'Set-Cookie': header(
    'Cookie mode: the HttpOnly token cookies, set at sign-in and renewal, cleared when the session ends or a cookie no longer authenticates.'
  ),
  'WWW-Authenticate': header(
    'The Bearer challenge (RFC 6750 §3): with `error="invalid_token"` when a token was sent and rejected.'
  ),
  'X-Request-Id': header('The id of this request in the logs.'),
}

/** Names in `components.headers` are identifiers, not header names. */
const componentName = (name: HeaderName) => name.replace(/-/g, '')

export const headerRef = (name: HeaderName, required: boolean) =>
  required
    ? { ...HEADERS[name], required: true }
    : { $ref: `#/components/headers/${componentName(name)}` }

export const HEADER_COMPONENTS = Object.fromEntries(
  Object.entries(HEADERS).map(([name, value]) => [componentName(name as HeaderName), value])
)

/** The contract's error body, narrowed to the codes one response can carry. */
export const errorBody = (codes: readonly ErrorCode[]) => ({
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: codes },
    message: { type: 'string', description: 'A sentence for a person.' },
    ...(codes.includes('validation_failed')
      ? {
          details: {
            type: 'object',
            description: 'What is wrong with each field, by field name.',
            additionalProperties: { type: 'string' },
          },
        }
      : {}),
  },
  additionalProperties: false,
})

/** RFC 6749 §5.2: the shape OAuth client libraries parse. */
export const oauthErrorBody = (codes: readonly OAuthErrorCode[]) => ({
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', enum: codes },
    error_description: { type: 'string' },
  },
  additionalProperties: false,
})

/** The core's tags; each feature's docs add its own (PartDocs, src/http/endpoint.ts). */
export const TAGS = [
  { name: 'auth', description: 'Accounts, sign-in, refresh and sign-out.' },
  { name: 'sessions', description: "The user's live sessions." },
  { name: 'account', description: 'The signed-in user.' },
  { name: 'oauth', description: 'OAuth 2.0 refresh and revocation, keys and metadata.' },
  { name: 'meta', description: 'Health and this document.' },
]
