/**
 * The bearer scheme (RFC 6750): reading the token from the Authorization header and the
 * challenge a 401 carries. Free of the rest of the HTTP layer, as the resource servers' verifier
 * (src/verify/) uses it too.
 */
import { MAX_TOKEN_LENGTH } from '../auth/access-claims'
import { InvalidAccessToken } from '../auth/errors'

/** As long as the longest token: a longer header is refused before it is parsed. */
export const MAX_AUTHORIZATION_LENGTH = MAX_TOKEN_LENGTH

const SPACE = 0x20

/**
 * The token from `Authorization: Bearer …`, or null when none was sent in that scheme. One pass
 * over the header, no regular expression: a backtracking pattern here let one request with a
 * long run of spaces burn seconds of CPU. Whatever follows the scheme is the token as sent:
 * "Bearer a b" is a malformed token (invalid_token), not a missing one.
 */
export const bearerToken = (authorization: string | undefined): string | null => {
  if (authorization === undefined) return null
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) {
    throw new InvalidAccessToken('The Authorization header is too long')
  }
  const scheme = 'bearer'
  if (authorization.slice(0, scheme.length).toLowerCase() !== scheme) return null
  let start = scheme.length
  let end = authorization.length
  // "Bearerx" is another scheme; "Bearer" alone, or followed by spaces only, sends no token.
  if (start < end && authorization.charCodeAt(start) !== SPACE) return null
  while (start < end && authorization.charCodeAt(start) === SPACE) start++
  while (end > start && authorization.charCodeAt(end - 1) === SPACE) end--
  return start < end ? authorization.slice(start, end) : null
}

/** RFC 9470's challenge for a valid token whose sign-in is older than the route accepts. */
export const stepUpChallenge = (maxAge: number): string =>
  `Bearer error="insufficient_user_authentication", max_age="${maxAge}"`

/** The RFC 6750 challenge: no error attribute when no token was sent, invalid_token otherwise. */
export const bearerChallenge = (description?: string): string =>
  description === undefined
    ? 'Bearer realm="edge-jwt-auth"'
    : `Bearer realm="edge-jwt-auth", error="invalid_token", error_description="${description}"`
