/**
 * Cookie mode: the browser keeps both tokens in HttpOnly cookies that page scripts cannot read.
 * Whether a request is in cookie mode is decided once, by the request gate (csrf.ts), and read from the
 * context everywhere else; reading, setting and clearing the cookies happens only here.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { DEVICE_TOKEN_LIFETIME } from '../auth/devices'
import type { IssuedTokens } from '../auth/sign-in'
import type { AppEnv, CookieMode } from '../env'
import { ApiError } from './errors'

/** `__Host-`: Secure, Path=/ and no Domain, so neither a sibling subdomain nor http can plant it. */
export const ACCESS_COOKIE = '__Host-access_token'
/**
 * `__Host-` as well: a `__Secure-` cookie may carry `Domain=`, so a sibling subdomain could toss
 * its own refresh token in beside the victim's access cookie. Path=/ rather than /auth/refresh:
 * implicit refresh happens on any protected route, so the browser must send this cookie there too.
 * SameSite=Strict keeps it out of every cross-site request.
 */
export const REFRESH_COOKIE = '__Host-refresh_token'
/**
 * The device token (auth/devices.ts) in cookie mode. It proves nothing by itself: it never makes a
 * request cookie-authenticated, and only a login reads it. SameSite=Strict: no other site's request
 * needs it.
 */
export const DEVICE_COOKIE = '__Host-device'
export const AUTH_MODE_HEADER = 'X-Auth-Mode'
export const COOKIE_MODE = 'cookie'

type AnyContext = Context<AppEnv>

export const readAccessCookie = (c: AnyContext): string | undefined =>
  c.get('cookieMode').accessCookie

export const readRefreshCookie = (c: AnyContext): string | undefined =>
  c.get('cookieMode').refreshCookie

const isCookieWhitespace = (code: number) => code === 0x20 || code === 0x09

/** `text` without the spaces and tabs around it: two linear scans, no regular expression. */
const trimCookieWhitespace = (text: string): string => {
  let start = 0
  let end = text.length
  while (start < end && isCookieWhitespace(text.charCodeAt(start))) start++
  while (end > start && isCookieWhitespace(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

/**
 * The values of our two cookies, from one left-to-right pass over the Cookie header: each pair
 * is looked at once, so a header of any length costs time linear in its length. The first pair
 * of a name wins, as in hono's parser. Values are taken as sent, never URL-decoded: the tokens
 * are base64url, and anything else fails their own checks (an over-long one before it is parsed).
 */
export const readTokenCookies = (
  header: string | undefined
): { access?: string; refresh?: string; device?: string } => {
  const found: { access?: string; refresh?: string; device?: string } = {}
  if (header === undefined) return found
  let position = 0
  while (position <= header.length) {
    const semicolon = header.indexOf(';', position)
    const end = semicolon === -1 ? header.length : semicolon
    const pair = header.slice(position, end)
    position = end + 1
    const equals = pair.indexOf('=')
    if (equals === -1) continue
    const name = trimCookieWhitespace(pair.slice(0, equals))
    const slot =
      name === ACCESS_COOKIE
        ? 'access'
        : name === REFRESH_COOKIE
          ? 'refresh'
          : name === DEVICE_COOKIE
            ? 'device'
            : null
    if (slot === null || found[slot] !== undefined) continue
    let value = trimCookieWhitespace(pair.slice(equals + 1))
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1)
    }
    if (value !== '') found[slot] = value
  }
  return found
}

/** How this request uses cookies (see CookieMode). */
export const cookieModeOf = (c: AnyContext): CookieMode => {
  const cookies = readTokenCookies(c.req.header('Cookie'))
  const carriesCookie = cookies.access !== undefined || cookies.refresh !== undefined
  return {
    requested: c.req.header(AUTH_MODE_HEADER)?.trim().toLowerCase() === COOKIE_MODE,
    authenticates: c.req.header('Authorization') === undefined && carriesCookie,
    accessCookie: cookies.access,
    refreshCookie: cookies.refresh,
    deviceCookie: cookies.device,
  }
}

/**
 * On the routes that offer cookie mode, `X-Auth-Mode` is `cookie` or absent: any other value is
 * refused rather than silently answered in bearer mode.
 */
export const refuseUnknownAuthMode = (): MiddlewareHandler<AppEnv> =>
  async function refuseUnknownAuthMode(c, next) {
    const mode = c.req.header(AUTH_MODE_HEADER)
    if (mode !== undefined && mode !== COOKIE_MODE) {
      throw new ApiError('validation_failed', {
        details: { [AUTH_MODE_HEADER]: `${AUTH_MODE_HEADER} must be ${COOKIE_MODE} or absent` },
      })
    }
    await next()
  }

/** Whether this request uses cookies at all: it must pass the origin check, and logout clears them. */
export const inCookieMode = (c: AnyContext): boolean => {
  const mode = c.get('cookieMode')
  return mode.requested || mode.authenticates
}

/**
 * A response to a cross-site request never sets or clears a cookie: a navigation from another
 * site could otherwise log the browser out (clearing) or rotate its tokens behind its back.
 */
export const isCrossSiteRequest = (c: AnyContext): boolean =>
  c.req.header('Sec-Fetch-Site')?.trim().toLowerCase() === 'cross-site'

/** What browsers keep at most (RFC 6265bis); a longer Max-Age is a configuration error. */
const MAX_COOKIE_AGE_SECONDS = 34_560_000

/**
 * Every cookie of the service (these and a feature's, such as the identity providers'
 * `__Host-oidc`) is `__Host-`, HttpOnly, Secure and Path=/, so the Set-Cookie line is written out
 * rather than built by hono/cookie's generic serializer (the same text, in the same order).
 * A max-age of 0 expires the cookie.
 */
export const setHostCookie = (
  c: AnyContext,
  name: string,
  value: string,
  maxAge: number,
  sameSite: 'Lax' | 'Strict'
): void => {
  if (maxAge > MAX_COOKIE_AGE_SECONDS) {
    throw new Error(
      'Cookies Max-Age SHOULD NOT be greater than 400 days (34560000 seconds) in duration.'
    )
  }
  const age = maxAge >= 0 ? `; Max-Age=${Math.trunc(maxAge)}` : ''
  c.header(
    'Set-Cookie',
    `${name}=${encodeURIComponent(value)}${age}; Path=/; HttpOnly; Secure; SameSite=${sameSite}`,
    { append: true }
  )
}

/**
 * Both cookies live as long as the refresh token: the access token's own `exp` limits its use, and
 * keeping the expired JWT around lets the worker see that this browser needs a renewal.
 */
export const setTokenCookies = (c: AnyContext, tokens: IssuedTokens): void => {
  if (isCrossSiteRequest(c)) return
  setHostCookie(c, ACCESS_COOKIE, tokens.accessToken, tokens.refreshExpiresIn, 'Lax')
  setHostCookie(c, REFRESH_COOKIE, tokens.refreshToken, tokens.refreshExpiresIn, 'Strict')
}

/** The device cookie lives as long as its token. */
export const setDeviceCookie = (c: AnyContext, token: string): void => {
  if (isCrossSiteRequest(c)) return
  setHostCookie(c, DEVICE_COOKIE, token, DEVICE_TOKEN_LIFETIME, 'Strict')
}

/**
 * Expires both cookies; the attributes must match the ones they were set with. hono's
 * deleteCookie would parse the whole Cookie header again to return the old value.
 */
export const clearTokenCookies = (c: AnyContext): void => {
  if (isCrossSiteRequest(c)) return
  setHostCookie(c, ACCESS_COOKIE, '', 0, 'Lax')
  setHostCookie(c, REFRESH_COOKIE, '', 0, 'Strict')
}
