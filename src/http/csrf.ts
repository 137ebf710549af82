/**
 * CSRF defence for cookie mode: a state-changing request that a cookie could authenticate must
 * show that it comes from this origin or one in CORS_ORIGINS. Bearer requests cannot be forged
 * by another site (it cannot attach the header), so they pass untouched.
 *
 * It runs in the request gate, the one middleware before the routes that decides, in order: the
 * body's size (body-limit.ts), the 404 of a route that is off (the dev outbox), the 405 or
 * trailing-slash 404 (method-not-allowed.ts), the request's cookie mode (cookies.ts), and this
 * check. One layer instead of five, for every request (bench/README.md).
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { RouterRoute } from 'hono/types'
import type { AppEnv } from '../env'
import { limitBody } from './body-limit'
import { refuseForeignCookieWrite } from './cookie-origin'
import { cookieModeOf } from './cookies'
import { declareMiddleware } from './endpoint'
import { methodChecker } from './method-not-allowed'

export { comesFromAllowedOrigin } from './cookie-origin'

/** `routes` is read on first use, once the app is fully built. */
export const requestGate = (
  routes: () => RouterRoute[],
  maxBodyBytes: number,
  refuseHiddenRoute: (c: Context<AppEnv>) => void
): MiddlewareHandler<AppEnv> => {
  const refuseUnknownMethod = methodChecker(routes)
  return declareMiddleware(
    async function requestGate(c, next) {
      // Only requests that can carry a body have one: a GET or HEAD with one never reaches the worker.
      const reading = limitBody(c, maxBodyBytes)
      if (reading) await reading
      // A route that is off (the dev outbox) is a 404 before its methods could show in a 405.
      refuseHiddenRoute(c)
      refuseUnknownMethod(c)
      c.set('cookieMode', cookieModeOf(c))
      refuseForeignCookieWrite(c, c.get('services'))
      await next()
    },
    { methods: ['POST', 'PUT', 'PATCH', 'DELETE'], errors: ['payload_too_large', 'forbidden'] }
  )
}
