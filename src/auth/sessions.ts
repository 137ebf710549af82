/**
 * The session lifecycle: starting, rotating and ending sessions. Each session is the root of a
 * chain of single-use refresh tokens. KV maps a token's hash to its session; the session row in D1
 * says which token of the chain is live, and is the only place a rotation or a revocation is
 * decided (D1 is strongly consistent, KV is not).
 */
import { bestEffort } from '../best-effort'
import { nowSeconds } from '../clock'
import type { AppConfig } from '../config'
import type { Bindings } from '../env'
import type { Reservation } from '../store/login-failures'
import { deleteRefreshRecords, getRefreshRecord, putRefreshRecord } from '../store/refresh-tokens'
import {
  findSession,
  insertSession,
  isSessionLive,
  listLiveSessions,
  revokeSession,
  revokeUserSessions,
  rotateSessionToken,
} from '../store/sessions'
import type { SessionRow, SessionScope } from '../store/sessions'
import { insertUserWithSession } from '../store/users'
import type { NewUser, PublicUser } from '../store/users'
import { signAccessToken } from './access-token'
import { constantTimeEqualText } from './encoding'
import { InvalidCredentials, InvalidRefreshToken } from './errors'
import {
  hashRefreshToken,
  isWellFormedRefreshToken,
  newRefreshToken,
  openSuccessor,
  sealSuccessor,
} from './refresh-token'

export interface IssuedTokens {
  sessionId: string
  userId: string
  accessToken: string
  expiresIn: number
  refreshToken: string
  refreshExpiresIn: number
}

const USER_AGENT_MAX_LENGTH = 256

/** User agents are shown back in the session list; keep them short and printable. */
export const sanitizeUserAgent = (userAgent: string | undefined): string | null => {
  if (!userAgent) return null
  const printable = userAgent.replace(/[^\x20-\x7e]/g, '').trim()
  return printable ? printable.slice(0, USER_AGENT_MAX_LENGTH) : null
}

const issueTokens = async (
  config: AppConfig,
  chain: { sessionId: string; userId: string; refreshToken: string; refreshExpiresAt: number },
  now: number
): Promise<IssuedTokens> => {
  const access = await signAccessToken(config, chain)
  return {
    sessionId: chain.sessionId,
    userId: chain.userId,
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken: chain.refreshToken,
    refreshExpiresIn: chain.refreshExpiresAt - now,
  }
}

/** A refresh token never outlives its session's absolute lifetime (SESSION_MAX_AGE from login). */
const refreshExpiry = (config: AppConfig, now: number, sessionCreatedAt: number): number =>
  Math.min(now + config.refreshTokenTtl, sessionCreatedAt + config.sessionMaxAge)

/**
 * The server secret the successor box is keyed with: the HMAC secret, or the active private key.
 * Changing it (a new secret, another active key) only makes boxes of the last grace window
 * unreadable, which ends those sessions as a replay would.
 */
const boxSecret = (config: AppConfig): string => {
  const material = config.signer.material()
  return material.algorithm === 'HS256'
    ? material.secret
    : (material.keySet.active.privateJwk.d ?? '')
}

/** How a session begins: at registration (with the new user) or at a checked login. */
export type SessionStart =
  { newUser: NewUser } | { login: { passwordHash: string; reservation: Reservation } }

/**
 * Opens a session for a user. At registration the user is inserted in the same D1 transaction, so
 * that a user never exists without the session it was promised. After a login the insert only
 * lands while the user's stored hash is still the one the password was checked against: a login
 * that raced a password change gets no session (InvalidCredentials).
 */
export const startSession = async (
  env: Bindings,
  config: AppConfig,
  owner: { userId: string; userAgent: string | null },
  start: SessionStart
): Promise<IssuedTokens> => {
  config.signer.check()
  const now = nowSeconds()
  const sessionId = crypto.randomUUID()
  const refreshToken = newRefreshToken()
  const refreshHash = await hashRefreshToken(refreshToken)
  const refreshExpiresAt = refreshExpiry(config, now, now)
  // KV first: should D1 then fail, the record names a session that never existed and is useless.
  await putRefreshRecord(
    env.REFRESH_TOKENS,
    refreshHash,
    { sid: sessionId, uid: owner.userId, exp: refreshExpiresAt },
    now
  )
  const session = {
    id: sessionId,
    user_id: owner.userId,
    refresh_hash: refreshHash,
    user_agent: owner.userAgent,
    created_at: now,
    expires_at: refreshExpiresAt,
  }
  if ('newUser' in start) await insertUserWithSession(env.DB, start.newUser, session)
  else if (!(await insertSession(env.DB, session, start.login))) {
    throw new InvalidCredentials('The password changed while signing in')
  }
  return issueTokens(
    config,
    { sessionId, userId: owner.userId, refreshToken, refreshExpiresAt },
    now
  )
}

/**
 * Exchanges a refresh token for a new pair. The used token dies; replaying it inside the grace
 * window returns the same successor (two tabs refreshing at once), and after it ends the session.
 */
export const refreshSession = async (
  env: Bindings,
  config: AppConfig,
  refreshToken: string
): Promise<IssuedTokens & { user: PublicUser }> => {
  // Before the token is even looked at, as no rotation may be written that cannot be signed.
  config.signer.check()
  if (!isWellFormedRefreshToken(refreshToken)) throw new InvalidRefreshToken()
  const now = nowSeconds()
  const tokenHash = await hashRefreshToken(refreshToken)
  const record = await getRefreshRecord(env.REFRESH_TOKENS, tokenHash)
  if (!record || record.exp <= now) throw new InvalidRefreshToken()
  let session = await findSession(env.DB, record.sid)
  if (!isSessionLive(session, now) || session.user_id !== record.uid) {
    throw new InvalidRefreshToken()
  }

  if (constantTimeEqualText(session.refresh_hash, tokenHash)) {
    const successor = newRefreshToken()
    const successorHash = await hashRefreshToken(successor)
    const refreshExpiresAt = refreshExpiry(config, now, session.created_at)
    const chain = { sessionId: session.id, userId: session.user_id }
    await putRefreshRecord(
      env.REFRESH_TOKENS,
      successorHash,
      { sid: chain.sessionId, uid: chain.userId, exp: refreshExpiresAt },
      now
    )
    const won = await rotateSessionToken(env.DB, {
      id: session.id,
      expectedHash: tokenHash,
      nextHash: successorHash,
      successorBox: await sealSuccessor(boxSecret(config), session.id, refreshToken, successor),
      now,
      expiresAt: refreshExpiresAt,
    })
    const issued = { ...chain, refreshToken: successor, refreshExpiresAt }
    if (won) return { ...(await issueTokens(config, issued, now)), user: session.owner }
    // A concurrent request rotated first; decide against the row as it is now.
    session = await findSession(env.DB, record.sid)
    if (!isSessionLive(session, now)) throw new InvalidRefreshToken()
  }

  const rotatedAt = session.rotated_at
  // Strictly less, on whole seconds: the window never exceeds the configured length (the contract
  // says at most 10 s), and a grace of 0 switches it off instead of meaning "the same second".
  const withinGrace = rotatedAt !== null && now - rotatedAt < config.reuseGraceSeconds
  const isPrevious =
    session.previous_hash !== null && constantTimeEqualText(session.previous_hash, tokenHash)
  if (isPrevious && withinGrace && session.successor_box) {
    const successor = await openSuccessor(
      boxSecret(config),
      session.id,
      refreshToken,
      session.successor_box
    )
    if (successor) {
      const chain = { sessionId: session.id, userId: session.user_id }
      const issued = { ...chain, refreshToken: successor, refreshExpiresAt: session.expires_at }
      return { ...(await issueTokens(config, issued, now)), user: session.owner }
    }
  }

  // A token of this chain that was rotated away is being replayed: assume it was stolen.
  await revokeSession(env.DB, session.id, now)
  throw new InvalidRefreshToken('The refresh token was already used; its session has been ended.')
}

/** Who a refresh token was issued to; `expiresAt` is the token's own expiry. */
export interface RefreshTokenOwner {
  userId: string
  sessionId: string
  expiresAt: number
}

/**
 * The session a refresh token was issued for, rotated-away tokens of the chain included (a
 * replayed one would end its session at /auth/refresh). Null for a token never issued here.
 */
export const sessionOfRefreshToken = async (
  env: Bindings,
  refreshToken: string
): Promise<RefreshTokenOwner | null> => {
  if (!isWellFormedRefreshToken(refreshToken)) return null
  const record = await getRefreshRecord(env.REFRESH_TOKENS, await hashRefreshToken(refreshToken))
  return record ? { userId: record.uid, sessionId: record.sid, expiresAt: record.exp } : null
}

/** Tidies KV after D1 has committed; the records are already unusable, so a failure here is only logged. */
export const forgetRefreshTokens = (env: Bindings, tokenHashes: string[]): Promise<void> =>
  bestEffort('refresh token cleanup failed', () =>
    deleteRefreshRecords(env.REFRESH_TOKENS, tokenHashes)
  )

/**
 * Ends some of a user's live sessions: revoked in D1 first (that alone makes their tokens
 * useless), then their refresh records tidied from KV. Returns how many sessions ended.
 */
export const endSessions = async (
  env: Bindings,
  userId: string,
  scope: SessionScope
): Promise<number> => {
  const ended = await revokeUserSessions(env.DB, userId, scope, nowSeconds())
  await forgetRefreshTokens(env, ended)
  return ended.length
}

export const listSessions = (env: Bindings, userId: string): Promise<SessionRow[]> =>
  listLiveSessions(env.DB, userId, nowSeconds())
