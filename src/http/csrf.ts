/**
 * CSRF defence for cookie mode: a state-changing request that a cookie could authenticate must
 * show that it comes from this origin or one in CORS_ORIGINS. Bearer requests cannot be forged
 * by another site (it cannot attach the header), so they pass untouched.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { refuseForeignCookieWrite } from './cookie-origin'
import { declareMiddleware } from './endpoint'

export { comesFromAllowedOrigin } from './cookie-origin'

export const cookieCsrf = (): MiddlewareHandler<AppEnv> =>
  declareMiddleware(
    async function cookieCsrf(c, next) {
      refuseForeignCookieWrite(c, c.var.services.options.corsOrigins)
      await next()
    },
    { methods: ['POST', 'PUT', 'PATCH', 'DELETE'], errors: ['forbidden'] }
  )
