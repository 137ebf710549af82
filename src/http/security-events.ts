/**
 * The one call every route makes to record a security event: `recordEvent(c, { type, userId })`.
 * It takes where the request came from off the request, writes after the response
 * (waitUntil), and never fails or slows the request: a failed write is logged.
 */
import type { Context } from 'hono'
import { RefreshTokenReused, WrongSecondFactor } from '../auth/errors'
import type { RequestOrigin, SecurityEventInput } from '../auth/security-events'
import { warn } from '../best-effort'
import type { AppEnv } from '../env'
import { userAgentOf } from './user-agent'

// Cloudflare sets CF-Connecting-IP; elsewhere (wrangler dev, a proxy) anything may arrive, so
// only what can be an IPv4 or IPv6 address is kept.
const IP_ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/
// request.cf.country: ISO 3166-1 alpha-2, or Cloudflare's own two-character codes (T1, XX).
const COUNTRY = /^[A-Z0-9]{2}$/

const originOf = (c: Context<AppEnv>): RequestOrigin => {
  const ip = c.req.header('CF-Connecting-IP')
  const country = (c.req.raw as { cf?: { country?: unknown } }).cf?.country
  return {
    ip: ip !== undefined && ip.length <= 45 && IP_ADDRESS.test(ip) ? ip : null,
    userAgent: userAgentOf(c),
    country: typeof country === 'string' && COUNTRY.test(country) ? country : null,
  }
}

export const recordEvent = (c: Context<AppEnv>, event: SecurityEventInput): void => {
  try {
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'security event',
        type: event.type,
        request_id: c.get('requestId'),
      })
    )
    const recording = c.get('services').events.record(event, originOf(c))
    try {
      c.executionCtx.waitUntil(recording)
    } catch {
      // No execution context (a host calling app.fetch bare): the write runs on its own.
    }
  } catch (error) {
    warn('security event not recorded', error)
  }
}

/** A refresh whose replayed token ended its session (/auth/refresh, /oauth/token) tells the owner. */
export const recordRefreshReuse = (c: Context<AppEnv>, error: unknown): void => {
  if (error instanceof RefreshTokenReused) {
    recordEvent(c, {
      type: 'refresh_reuse_detected',
      userId: error.userId,
      sessionId: error.sessionId,
    })
  }
}

/** A wrong second factor (a sign-in, a re-authentication, turning TOTP off) tells the owner. */
export const recordMfaFailure = (c: Context<AppEnv>, error: unknown, method?: string): never => {
  if (error instanceof WrongSecondFactor && error.userId) {
    recordEvent(c, { type: 'mfa_failed', userId: error.userId, method })
  }
  throw error
}
