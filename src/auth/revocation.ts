/**
 * Token revocation (RFC 7009): a refresh token or an access token ends the session it belongs to.
 * Unknown, expired and malformed tokens end nothing and are not an error, as the RFC asks.
 */
import { nowSeconds } from '../clock'
import { verifyAccessToken } from './access-token'
import type { Core } from './core'
import { isOpaqueToken } from './encoding'
import { AccessTokenExpired, InvalidAccessToken } from './errors'
import { endSessions, sessionOfRefreshToken } from './sessions'

export interface SessionRef {
  userId: string
  sessionId: string
}

/** Any token of a chain names its session, rotated ones too; an expired one names none. */
const sessionOfLiveRefreshToken = async (
  core: Core,
  token: string,
  now: number
): Promise<SessionRef | null> => {
  const owner = await sessionOfRefreshToken(core, token)
  return owner && owner.expiresAt > now ? owner : null
}

const sessionOfAccessToken = async (core: Core, token: string): Promise<SessionRef | null> => {
  try {
    const claims = await verifyAccessToken(core.options, token)
    return { userId: claims.sub, sessionId: claims.sid }
  } catch (error) {
    if (error instanceof InvalidAccessToken || error instanceof AccessTokenExpired) return null
    throw error
  }
}

/**
 * Ends the session of `token`, and names it when it was live until now. Refresh tokens (43
 * base64url characters) and access tokens (JWTs, with dots) cannot be mistaken for each other,
 * so the shape decides and no hint is needed.
 */
export const revokeToken = async (core: Core, token: string): Promise<SessionRef | null> => {
  const session = isOpaqueToken(token)
    ? await sessionOfLiveRefreshToken(core, token, nowSeconds())
    : await sessionOfAccessToken(core, token)
  if (!session) return null
  const ended = await endSessions(core, session.userId, { only: session.sessionId })
  return ended > 0 ? session : null
}
