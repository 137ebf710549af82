/**
 * Access tokens: HS256 JWTs signed and verified by hono/jwt with Web Crypto. The algorithm is
 * pinned, and the time claims are checked here after the signature, so that a forged token is
 * `invalid_token` and only a genuine one can be `token_expired`.
 */
import { sign, verify } from 'hono/jwt'
import type { AppConfig } from '../config'
import { nowSeconds } from '../clock'
import { ApiError } from '../http/errors'
import { utf8 } from './encoding'

const ALGORITHM = 'HS256'
/** Marks the token's kind, so that no other token signed with the same key passes for it. */
export const ACCESS_TOKEN_USE = 'access'
/** Clock skew tolerated for `iat` and `nbf` in the future. */
export const CLOCK_LEEWAY_SECONDS = 30

export interface AccessClaims {
  iss: string
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
  token_use: typeof ACCESS_TOKEN_USE
}

export interface AuthContext {
  userId: string
  sessionId: string
  claims: AccessClaims
}

// Importing a key costs more than using it; one CryptoKey per secret is safe to keep per isolate.
const keys = new Map<string, Promise<CryptoKey>>()

const signingKey = (secret: string): Promise<CryptoKey> => {
  let key = keys.get(secret)
  if (!key) {
    key = crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ])
    keys.set(secret, key)
  }
  return key
}

export const signAccessToken = async (
  config: AppConfig,
  secret: string,
  subject: { userId: string; sessionId: string }
): Promise<{ token: string; expiresIn: number }> => {
  const issuedAt = nowSeconds()
  const claims: AccessClaims = {
    iss: config.issuer,
    sub: subject.userId,
    sid: subject.sessionId,
    jti: crypto.randomUUID(),
    iat: issuedAt,
    exp: issuedAt + config.accessTokenTtl,
    token_use: ACCESS_TOKEN_USE,
  }
  const token = await sign({ ...claims }, await signingKey(secret), ALGORITHM)
  return { token, expiresIn: config.accessTokenTtl }
}

/** The RFC 6750 challenge: no error attribute when no token was sent, invalid_token otherwise. */
export const bearerChallenge = (description?: string): string =>
  description === undefined
    ? 'Bearer realm="edge-jwt-auth"'
    : `Bearer realm="edge-jwt-auth", error="invalid_token", error_description="${description}"`

const rejected = (code: 'invalid_token' | 'token_expired', description: string): ApiError =>
  new ApiError(code, { headers: { 'WWW-Authenticate': bearerChallenge(description) } })

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0

/** Verifies signature, kind and claims; throws the contract's 401 for anything wrong. */
export const verifyAccessToken = async (
  config: AppConfig,
  secret: string,
  token: string
): Promise<AccessClaims> => {
  let payload: Record<string, unknown>
  try {
    payload = await verify(token, await signingKey(secret), {
      alg: ALGORITHM,
      exp: false,
      nbf: false,
      iat: false,
    })
  } catch {
    throw rejected('invalid_token', 'The access token is malformed or its signature is invalid')
  }
  const now = nowSeconds()
  const { iss, sub, sid, jti, iat, exp, nbf, token_use: use } = payload
  if (use !== ACCESS_TOKEN_USE || !isText(sub) || !isText(sid) || !isText(jti)) {
    throw rejected('invalid_token', 'The token is not an access token')
  }
  if (iss !== config.issuer) throw rejected('invalid_token', 'The token has the wrong issuer')
  if (!isNumber(iat) || !isNumber(exp)) throw rejected('invalid_token', 'The token lacks iat or exp')
  if (iat > now + CLOCK_LEEWAY_SECONDS) throw rejected('invalid_token', 'The token was issued in the future')
  if (nbf !== undefined && (!isNumber(nbf) || nbf > now + CLOCK_LEEWAY_SECONDS)) {
    throw rejected('invalid_token', 'The token is not valid yet')
  }
  if (exp <= now) throw rejected('token_expired', 'The access token expired')
  return { iss, sub, sid, jti, iat, exp, token_use: use }
}
