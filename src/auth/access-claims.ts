/**
 * The rules an access token must meet, its signature check included: shared by the worker
 * (access-token.ts) and the resource servers' verifier (src/verify/), so that a token passes or
 * fails the same way wherever it is checked. Which key verifies is the caller's; no I/O here.
 */
import { fromBase64Url, utf8, utf8Decoder } from './encoding'
import { AccessTokenExpired, InvalidAccessToken } from './errors'

/** Marks the token's kind, so that no other token signed with the same key passes for it. */
export const ACCESS_TOKEN_USE = 'access'
/**
 * No token this worker signs comes near 8 KiB; a longer one is refused before any of it is
 * decoded, so its cost stays bounded whatever a stranger sends.
 */
export const MAX_TOKEN_LENGTH = 8 * 1024
/** Clock skew tolerated for `iat` and `nbf` in the future. */
export const CLOCK_LEEWAY_SECONDS = 30

export interface AccessClaims {
  iss: string
  /** JWT_AUDIENCE (the issuer by default): services that verify with the JWKS check it too. */
  aud: string
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
  token_use: typeof ACCESS_TOKEN_USE
  /** RFC 8176 methods the session's user proved, in order (RFC 9068 §2.2.3). */
  amr?: string[]
  /** When the session's user last proved who they are, seconds since the epoch. */
  auth_time?: number
}

export const MALFORMED = 'The access token is malformed or its signature is invalid'

/** Header members that would let a token bring or point at its own key: never trusted here. */
const KEY_BEARING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c']

const decodeObject = (part: string): Record<string, unknown> | null => {
  const bytes = fromBase64Url(part)
  if (!bytes) return null
  try {
    const value: unknown = JSON.parse(utf8Decoder.decode(bytes))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/** The decoded header of a token no longer than MAX_TOKEN_LENGTH; throws InvalidAccessToken. */
export const readTokenHeader = (token: string): Record<string, unknown> => {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidAccessToken('The access token is too long')
  const header = decodeObject(token.slice(0, Math.max(0, token.indexOf('.'))))
  if (!header) throw new InvalidAccessToken(MALFORMED)
  if (KEY_BEARING_HEADERS.some((name) => name in header)) {
    throw new InvalidAccessToken('The token carries its own key or key location')
  }
  return header
}

/** A JWS compact token's three parts, the payload decoded; null when it has another shape. */
export const splitToken = (
  token: string
): { signingInput: string; payload: Record<string, unknown>; signature: string } | null => {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first < 0 || second < 0 || token.slice(second + 1).includes('.')) return null
  const payload = decodeObject(token.slice(first + 1, second))
  return payload
    ? { signingInput: token.slice(0, second), payload, signature: token.slice(second + 1) }
    : null
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value)
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0
const isMethodList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'string')

/** RFC 7519 §4.1.3: one audience, or a list of them that must name ours. */
const namesAudience = (aud: unknown, audience: string): boolean =>
  aud === audience || (Array.isArray(aud) && aud.includes(audience))

export interface ClaimRules {
  issuer: string
  audience: string
  now: number
  /**
   * Return the claims of a genuine token whose `exp` has passed instead of throwing
   * AccessTokenExpired: cookie mode needs the expired token's `sid` to renew the right session.
   */
  acceptExpired?: boolean
}

/**
 * The claims of a token whose signature has been checked: kind, issuer, audience and times.
 * Throws InvalidAccessToken, or AccessTokenExpired for a token that is only late.
 */
export const checkAccessClaims = (
  payload: Record<string, unknown>,
  { issuer, audience, now, acceptExpired }: ClaimRules
): AccessClaims => {
  const { iss, aud, sub, sid, jti, iat, exp, nbf, token_use: use, amr } = payload
  const authTime = payload.auth_time
  if (use !== ACCESS_TOKEN_USE || !isText(sub) || !isText(sid) || !isText(jti)) {
    throw new InvalidAccessToken('The token is not an access token')
  }
  if (iss !== issuer) throw new InvalidAccessToken('The token has the wrong issuer')
  if (!namesAudience(aud, audience)) {
    throw new InvalidAccessToken('The token is meant for another audience')
  }
  if (!isNumber(iat) || !isNumber(exp)) {
    throw new InvalidAccessToken('The token lacks iat or exp')
  }
  if (iat > now + CLOCK_LEEWAY_SECONDS) {
    throw new InvalidAccessToken('The token was issued in the future')
  }
  if (nbf !== undefined && (!isNumber(nbf) || nbf > now + CLOCK_LEEWAY_SECONDS)) {
    throw new InvalidAccessToken('The token is not valid yet')
  }
  if (exp <= now && acceptExpired !== true) throw new AccessTokenExpired()
  return {
    iss,
    aud: audience,
    sub,
    sid,
    jti,
    iat,
    exp,
    token_use: use,
    ...(isMethodList(amr) ? { amr } : {}),
    ...(isNumber(authTime) ? { auth_time: authTime } : {}),
  }
}

/** The key that verifies a token, and its algorithm's parameters (a Web Crypto name and hash). */
export interface VerificationKey {
  key: CryptoKey
  params: { name: string; hash?: string }
}

/**
 * The payload of a token whose signature `keyFor` (which picks the key from the header, and
 * throws for a header it does not accept) verifies; its claims are checkAccessClaims' to judge.
 * The shape is checked first, so garbage costs no key look-up. Web Crypto answers false for a
 * wrong signature (one of the wrong length for its curve may throw): forged either way.
 */
export const verifiedPayload = async (
  token: string,
  keyFor: (header: Record<string, unknown>) => Promise<VerificationKey>
): Promise<Record<string, unknown>> => {
  const header = readTokenHeader(token)
  const parts = splitToken(token)
  if (!parts) throw new InvalidAccessToken(MALFORMED)
  const { key, params } = await keyFor(header)
  const signature = fromBase64Url(parts.signature)
  const genuine =
    signature !== null &&
    (await crypto.subtle
      .verify(params, key, signature, utf8.encode(parts.signingInput))
      .catch(() => false))
  if (!genuine) throw new InvalidAccessToken(MALFORMED)
  return parts.payload
}

/** How a token's user proved who they are: its `amr`, and `auth_time` (`iat` when absent). */
export const claimsProof = (claims: AccessClaims): { amr: string[]; authTime: number } => ({
  amr: claims.amr ?? [],
  authTime: claims.auth_time ?? claims.iat,
})
