/**
 * Cookie mode: the browser keeps both tokens in HttpOnly cookies that page scripts cannot read.
 * Whether a request is in cookie mode is decided once, by `decideCookieMode`, and read from the
 * context everywhere else; reading, setting and clearing the cookies happens only here.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { IssuedTokens } from '../auth/sessions'
import type { AppEnv } from '../env'

/** `__Host-`: Secure, Path=/ and no Domain, so neither a sibling subdomain nor http can plant it. */
export const ACCESS_COOKIE = '__Host-access_token'
/**
 * `__Host-` as well: a `__Secure-` cookie may carry `Domain=`, so a sibling subdomain could toss
 * its own refresh token in beside the victim's access cookie. Path=/ rather than /auth/refresh:
 * implicit refresh happens on any protected route, so the browser must send this cookie there too.
 * SameSite=Strict keeps it out of every cross-site request.
 */
export const REFRESH_COOKIE = '__Host-refresh_token'
export const AUTH_MODE_HEADER = 'X-Auth-Mode'
export const COOKIE_MODE = 'cookie'

type AnyContext = Context<AppEnv>

export const readAccessCookie = (c: AnyContext): string | undefined =>
  getCookie(c, ACCESS_COOKIE) || undefined

export const readRefreshCookie = (c: AnyContext): string | undefined =>
  getCookie(c, REFRESH_COOKIE) || undefined

/** Sets the `cookieMode` variable that csrf, require-auth, refresh-body and the routes read. */
export const decideCookieMode = (): MiddlewareHandler<AppEnv> =>
  async function decideCookieMode(c, next) {
    const carriesCookie = readAccessCookie(c) !== undefined || readRefreshCookie(c) !== undefined
    c.set('cookieMode', {
      requested: c.req.header(AUTH_MODE_HEADER)?.trim().toLowerCase() === COOKIE_MODE,
      authenticates: c.req.header('Authorization') === undefined && carriesCookie,
    })
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

/**
 * Both cookies live as long as the refresh token: the access token's own `exp` limits its use, and
 * keeping the expired JWT around lets the worker see that this browser needs a renewal.
 */
export const setTokenCookies = (c: AnyContext, tokens: IssuedTokens): void => {
  if (isCrossSiteRequest(c)) return
  const maxAge = tokens.refreshExpiresIn
  setCookie(c, ACCESS_COOKIE, tokens.accessToken, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge,
  })
  setCookie(c, REFRESH_COOKIE, tokens.refreshToken, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Strict',
    maxAge,
  })
}

/** Expires both cookies; the attributes must match the ones they were set with. */
export const clearTokenCookies = (c: AnyContext): void => {
  if (isCrossSiteRequest(c)) return
  deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' })
  deleteCookie(c, REFRESH_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' })
}
