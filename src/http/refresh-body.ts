/**
 * The body of POST /auth/refresh. Bearer clients must send `{refresh_token}`; in cookie mode the
 * body may be empty and the refresh cookie stands in for the missing field. A bearer request with
 * no token gets one answer however it is left out (no body, an empty one, `{}`): 400
 * validation_failed, `refresh_token is required`.
 */
import type { MiddlewareHandler } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../env'
import { readRefreshCookie } from './cookies'
import { ApiError } from './errors'
import { jsonBody } from './json-body'
import { RefreshBody } from './schemas'

interface RefreshInput {
  in: { json: v.InferInput<typeof RefreshBody> }
  out: { json: v.InferOutput<typeof RefreshBody> }
}

const CookieRefreshBody = v.partial(RefreshBody)

export const refreshTokenBody = (): MiddlewareHandler<AppEnv, string, RefreshInput> => {
  const bearerBody = jsonBody(RefreshBody, { optional: true })
  const cookieBody = jsonBody(CookieRefreshBody, { optional: true })
  return async function refreshTokenBody(c, next) {
    if (!c.get('cookieMode').requested) return bearerBody(c, next)
    return cookieBody(c, async () => {
      const sent = c.req.valid('json').refresh_token
      const refreshToken = sent ?? readRefreshCookie(c)
      if (refreshToken === undefined) {
        throw new ApiError('invalid_refresh_token', {
          message: 'No refresh token was sent, in the body or in the refresh cookie.',
        })
      }
      c.req.addValidatedData('json', { refresh_token: refreshToken })
      await next()
    })
  }
}
