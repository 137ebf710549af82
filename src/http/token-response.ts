/**
 * The responses that hand out or take back tokens: the API's token response (a JSON body, or
 * cookies in cookie mode), the OAuth token endpoint's (RFC 6749 §5.1), and logout's.
 */
import type { Context } from 'hono'
import type { IssuedTokens, SignInOutcome } from '../auth/sign-in'
import type { AppEnv } from '../env'
import type { PublicUser } from '../ports'
import { clearTokenCookies, inCookieMode, setDeviceCookie, setTokenCookies } from './cookies'

export const DEVICE_TOKEN_HEADER = 'X-Device-Token'
import { presentCookieTokens, presentOAuthTokens, presentTokens } from './present'

const forbidCaching = (c: Context<AppEnv>) => {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
}

/** Register, login and refresh: in cookie mode the tokens travel only in HttpOnly cookies. */
export const tokenResponse = <S extends 200 | 201>(
  c: Context<AppEnv>,
  status: S,
  user: PublicUser,
  tokens: IssuedTokens
) => {
  forbidCaching(c)
  if (c.get('cookieMode').requested) {
    setTokenCookies(c, tokens)
    if (tokens.deviceToken) setDeviceCookie(c, tokens.deviceToken)
    return c.json(presentCookieTokens(user, tokens), status)
  }
  return c.json(presentTokens(user, tokens), status)
}

/** The device token a login presents: the X-Device-Token header, or else the device cookie. */
export const presentedDeviceToken = (c: Context<AppEnv>): string | undefined =>
  c.req.header(DEVICE_TOKEN_HEADER) ?? c.get('cookieMode').deviceCookie

/** POST /oauth/token: the standard fields only; OAuth clients never use cookie mode. */
export const oauthTokenResponse = (c: Context<AppEnv>, tokens: IssuedTokens) => {
  forbidCaching(c)
  return c.json(presentOAuthTokens(tokens), 200)
}

/** Logout: a browser in cookie mode also loses its cookies, which can no longer authenticate. */
export const loggedOutResponse = (c: Context<AppEnv>) => {
  if (inCookieMode(c)) clearTokenCookies(c)
  return c.body(null, 204)
}

/**
 * The answer to a sign-in: the token response (cookies in cookie mode), or, when a feature asks
 * for a second factor, 202 with the challenge and no session.
 */
export const signInResponse = <S extends 200 | 201>(
  c: Context<AppEnv>,
  outcome: SignInOutcome,
  status: S
) => {
  if (outcome.kind === 'second_factor') {
    forbidCaching(c)
    return c.json({ mfa_required: true as const, ...outcome.challenge }, 202)
  }
  return tokenResponse(c, status, outcome.user, outcome.tokens)
}
