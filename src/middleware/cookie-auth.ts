/**
 * Authentication by the access cookie, with implicit refresh: an access token that has expired,
 * or is about to, is renewed from the refresh cookie in passing and the request is served.
 */
import type { Context } from 'hono'
import type { AccessClaims } from '../auth/access-token'
import { bearerChallenge } from '../auth/access-token'
import {
  clearTokenCookies,
  readAccessCookie,
  readRefreshCookie,
  setTokenCookies,
} from '../auth/cookies'
import { refreshSession } from '../auth/sessions'
import { nowSeconds } from '../clock'
import { readConfig, requireSigningSecret } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'

/** How the caller checks an access token; passed in so that this module does not fix its keys. */
export type VerifyAccess = (token: string) => Promise<AccessClaims>

const isCode = (error: unknown, code: string): error is ApiError =>
  error instanceof ApiError && error.code === code

const verifyOrRenew = async (
  c: Context<AppEnv>,
  verify: VerifyAccess,
  accessToken: string
): Promise<AccessClaims> => {
  const refreshToken = readRefreshCookie(c)
  let claims: AccessClaims | null = null
  let expired: ApiError | null = null
  try {
    claims = await verify(accessToken)
  } catch (error) {
    if (!refreshToken || !isCode(error, 'token_expired')) throw error
    expired = error
  }
  const config = readConfig(c.env)
  const fresh = claims !== null && claims.exp - nowSeconds() > config.accessRefreshMargin
  // Without a refresh cookie a failed verification has already been rethrown, so claims is set.
  if (claims && (fresh || !refreshToken)) return claims
  if (!refreshToken) throw expired ?? new ApiError('token_expired')

  let tokens
  try {
    // Parallel requests of one page all carry the same refresh cookie: the first rotates it, the
    // others land in refreshSession's grace window and get the same successor, not a theft alarm.
    tokens = await refreshSession(c.env, config, requireSigningSecret(c.env), refreshToken)
  } catch (error) {
    if (!isCode(error, 'invalid_refresh_token')) throw error
    // The access token may still have a few seconds; otherwise the client learns it expired.
    if (claims) return claims
    throw expired ?? error
  }
  // Set before the handler runs, so that even an error response delivers the rotated cookies.
  setTokenCookies(c, tokens)
  return verify(tokens.accessToken)
}

/** The claims of the access cookie, renewed when due; throws the contract's 401s otherwise. */
export const authenticateWithCookies = async (
  c: Context<AppEnv>,
  verify: VerifyAccess
): Promise<AccessClaims> => {
  const accessToken = readAccessCookie(c)
  if (!accessToken) {
    throw new ApiError('missing_token', { headers: { 'WWW-Authenticate': bearerChallenge() } })
  }
  try {
    return await verifyOrRenew(c, verify, accessToken)
  } catch (error) {
    // A cookie that can no longer authenticate is dropped, so that the page starts clean.
    if (error instanceof ApiError && error.status === 401) clearTokenCookies(c)
    throw error
  }
}
