/** Cookie mode: the browser keeps both tokens in HttpOnly cookies that page scripts cannot read. */
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../env'
import type { IssuedTokens } from './sessions'

/** `__Host-`: Secure, Path=/ and no Domain, so neither a sibling subdomain nor http can plant it. */
export const ACCESS_COOKIE = '__Host-access_token'
/**
 * Path=/ rather than /auth/refresh: implicit refresh happens on any protected route, so the
 * browser must send this cookie there too. SameSite=Strict keeps it out of every cross-site request.
 */
export const REFRESH_COOKIE = '__Secure-refresh_token'
export const AUTH_MODE_HEADER = 'X-Auth-Mode'
export const COOKIE_MODE = 'cookie'

type AnyContext = Context<AppEnv>

/** Register, login and refresh use cookies only when the client asks with `X-Auth-Mode: cookie`. */
export const wantsCookieMode = (c: AnyContext): boolean =>
  c.req.header(AUTH_MODE_HEADER)?.trim().toLowerCase() === COOKIE_MODE

export const readAccessCookie = (c: AnyContext): string | undefined =>
  getCookie(c, ACCESS_COOKIE) || undefined

export const readRefreshCookie = (c: AnyContext): string | undefined =>
  getCookie(c, REFRESH_COOKIE) || undefined

/** Whether the request carries any of our cookies: such a request must pass the origin check. */
export const carriesAuthCookie = (c: AnyContext): boolean =>
  readAccessCookie(c) !== undefined || readRefreshCookie(c) !== undefined

/**
 * Both cookies live as long as the refresh token: the access token's own `exp` limits its use, and
 * keeping the expired JWT around lets the worker see that this browser needs a renewal.
 */
export const setTokenCookies = (c: AnyContext, tokens: IssuedTokens): void => {
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
  deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' })
  deleteCookie(c, REFRESH_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' })
}

/** Protected routes use the access cookie only when the request has no Authorization header at all. */
export const isCookieAuthenticated = (c: AnyContext): boolean =>
  c.req.header('Authorization') === undefined && readAccessCookie(c) !== undefined

/** Whether a response to this request should manage the cookies (set them, or clear them at logout). */
export const usesCookies = (c: AnyContext): boolean =>
  wantsCookieMode(c) || isCookieAuthenticated(c)
