/**
 * Token revocation (RFC 7009): a refresh token or an access token ends the session it belongs to.
 * Unknown, expired and malformed tokens end nothing and are not an error, as the RFC asks.
 */
import { nowSeconds } from '../clock'
import { readConfig, requireSigningSecret } from '../config'
import type { Bindings } from '../env'
import { ApiError } from '../http/errors'
import { getRefreshRecord } from '../store/refresh-tokens'
import { revokeUserSessions } from '../store/sessions'
import { verifyAccessToken } from './access-token'
import { forgetRefreshTokens } from './accounts'
import { hashRefreshToken, isWellFormedRefreshToken } from './refresh-token'

interface SessionRef {
  userId: string
  sessionId: string
}

/** Any token of a chain names its session, rotated ones too: /auth/refresh would end it for them. */
const sessionOfRefreshToken = async (
  env: Bindings,
  token: string,
  now: number
): Promise<SessionRef | null> => {
  const record = await getRefreshRecord(env.REFRESH_TOKENS, await hashRefreshToken(token))
  return record && record.exp > now ? { userId: record.uid, sessionId: record.sid } : null
}

const sessionOfAccessToken = async (env: Bindings, token: string): Promise<SessionRef | null> => {
  try {
    const claims = await verifyAccessToken(readConfig(env), requireSigningSecret(env), token)
    return { userId: claims.sub, sessionId: claims.sid }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null
    throw error
  }
}

/**
 * Ends the session of `token`. Refresh tokens (43 base64url characters) and access tokens (JWTs,
 * with dots) cannot be mistaken for each other, so the shape decides and no hint is needed.
 */
export const revokeToken = async (env: Bindings, token: string): Promise<void> => {
  const now = nowSeconds()
  const session = isWellFormedRefreshToken(token)
    ? await sessionOfRefreshToken(env, token, now)
    : await sessionOfAccessToken(env, token)
  if (!session) return
  const ended = await revokeUserSessions(env.DB, session.userId, { only: session.sessionId }, now)
  await forgetRefreshTokens(env, ended)
}
