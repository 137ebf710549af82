/**
 * The request's User-Agent as sessions and security events keep it: sanitized once per request
 * (a login stores it on the session and on its event), then read from the context.
 */
import type { Context } from 'hono'
import { sanitizeUserAgent } from '../auth/sessions'
import type { AppEnv } from '../env'

export const userAgentOf = (c: Context<AppEnv>): string | null => {
  let userAgent = c.get('userAgent') as string | null | undefined
  if (userAgent === undefined) {
    userAgent = sanitizeUserAgent(c.req.header('User-Agent'))
    c.set('userAgent', userAgent)
  }
  return userAgent
}
