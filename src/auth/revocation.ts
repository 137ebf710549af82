/**
 * Token revocation (RFC 7009): a refresh token or an access token ends the session it belongs to.
 * Unknown, expired and malformed tokens end nothing and are not an error, as the RFC asks.
 */
import { nowSeconds } from '../clock'
import type { AppConfig } from '../config'
import type { Bindings } from '../env'
import { verifyAccessToken } from './access-token'
import { AccessTokenExpired, InvalidAccessToken } from './errors'
import { isWellFormedRefreshToken } from './refresh-token'
import { endSessions, sessionOfRefreshToken } from './sessions'

interface SessionRef {
  userId: string
  sessionId: string
}

/** Any token of a chain names its session, rotated ones too; an expired one names none. */
const sessionOfLiveRefreshToken = async (
  env: Bindings,
  token: string,
  now: number
): Promise<SessionRef | null> => {
  const owner = await sessionOfRefreshToken(env, token)
  return owner && owner.expiresAt > now ? owner : null
}

const sessionOfAccessToken = async (
  config: AppConfig,
  token: string
): Promise<SessionRef | null> => {
  try {
    const claims = await verifyAccessToken(config, token)
    return { userId: claims.sub, sessionId: claims.sid }
  } catch (error) {
    if (error instanceof InvalidAccessToken || error instanceof AccessTokenExpired) return null
    throw error
  }
}

/**
 * Ends the session of `token`. Refresh tokens (43 base64url characters) and access tokens (JWTs,
 * with dots) cannot be mistaken for each other, so the shape decides and no hint is needed.
 */
export const revokeToken = async (
  env: Bindings,
  config: AppConfig,
  token: string
): Promise<void> => {
  const session = isWellFormedRefreshToken(token)
    ? await sessionOfLiveRefreshToken(env, token, nowSeconds())
    : await sessionOfAccessToken(config, token)
  if (!session) return
  await endSessions(env, session.userId, { only: session.sessionId })
}
