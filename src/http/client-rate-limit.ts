/**
 * The per-client limit on the routes that hash a password or send mail: the Workers rate limiter
 * wrangler.toml declares as CLIENT_RATE_LIMIT. Required unless the configuration says `off` (local
 * development and the tests), so that a deployment missing it fails loudly instead of letting
 * anyone make the worker hash passwords without bound.
 */
import type { MiddlewareHandler } from 'hono'
import { Misconfigured } from '../auth/errors'
import { warn } from '../best-effort'
import type { AppEnv } from '../env'
import { declareMiddleware } from './endpoint'
import { ApiError } from './errors'

/** The longest period a Workers rate limiter counts over; its outcome does not say how much is left. */
const RETRY_AFTER_SECONDS = 60

/**
 * The key a client is counted under: its IPv4 address, or the /64 of its IPv6 address, since
 * one subscriber commonly holds a whole /64 and could otherwise rotate through it.
 */
export const clientKey = (ip: string): string => {
  if (!ip.includes(':')) return ip
  const [head, tail = ''] = ip.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = ip.includes('::')
    ? // Cloudflare sets this header, but a malformed one must not throw (Array(-1) would).
      [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

export const clientRateLimit = (): MiddlewareHandler<AppEnv> =>
  declareMiddleware(
    async function clientRateLimit(c, next) {
      const { clientRateLimit: limiter, clientRateLimitRequired } = c.get('services').options
      if (!limiter) {
        if (clientRateLimitRequired) {
          throw new Misconfigured('the CLIENT_RATE_LIMIT binding is missing')
        }
        return next()
      }
      // Set by Cloudflare's edge on every request; without it there is no client to count.
      const ip = c.req.header('CF-Connecting-IP')
      if (!ip) return next()
      let allowed = true
      try {
        allowed = (await limiter.limit({ key: clientKey(ip) })).success
      } catch (error) {
        // Fail open: the limiter is a coarse shield, and the per-account throttle still holds.
        warn('rate limiter unavailable', error)
      }
      if (!allowed) {
        throw new ApiError('too_many_requests', {
          message: 'Too many requests from this network; try again later.',
          headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        })
      }
      await next()
    },
    { errors: ['too_many_requests', 'server_misconfigured'] }
  )
