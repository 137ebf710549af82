/**
 * Keeps a signed-in session's tokens and attaches the access token to every call, renewing
 * it through POST /auth/refresh shortly before it expires. Concurrent calls share one refresh:
 * a refresh token is single use, and presenting it twice looks like theft to the server.
 */
import type { Middleware } from 'openapi-fetch'
import type { TokenPair } from './accounts'
import { tokenPairOf } from './accounts'
import type { ApiClient } from './client'
import { callFailed } from './client'

/** Renew this long before the access token's expiry, so that it never expires in flight. */
const RENEW_MARGIN_MS = 30_000

/** Trades a refresh token for a new pair; the old refresh token is dead afterwards. */
export const refreshTokens = async (client: ApiClient, refreshToken: string, now = Date.now()) => {
  const { data, error, response } = await client.POST('/auth/refresh', {
    body: { refresh_token: refreshToken },
  })
  if (error) throw callFailed(response, error)
  return tokenPairOf(data, now)
}

export interface Session {
  current: () => TokenPair
  /** The middleware that signs calls: `client.use(session.middleware)`. */
  middleware: Middleware
}

/**
 * `refresher` is a client without this middleware (the refresh call needs no access token);
 * `now` is the clock, replaceable in tests.
 */
export const startSession = (
  refresher: ApiClient,
  tokens: TokenPair,
  now: () => number = Date.now
): Session => {
  let current = tokens
  let renewal: Promise<TokenPair> | undefined

  const freshTokens = async (): Promise<TokenPair> => {
    if (now() < current.accessExpiresAt - RENEW_MARGIN_MS) return current
    renewal ??= refreshTokens(refresher, current.refreshToken, now()).finally(() => {
      renewal = undefined
    })
    current = await renewal
    return current
  }

  return {
    current: () => current,
    middleware: {
      async onRequest({ request }) {
        const { accessToken } = await freshTokens()
        request.headers.set('Authorization', `Bearer ${accessToken}`)
        return request
      },
    },
  }
}
