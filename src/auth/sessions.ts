/**
 * The session lifecycle: starting, checking, rotating and ending sessions. Each session is the
 * root of a chain of single-use refresh tokens. The refresh index (KV) maps a token's hash to its
 * session; the session row (D1) says which token of the chain is live, and is the only place a
 * rotation or a revocation is decided (D1 is strongly consistent, KV is not).
 */
import { bestEffort } from '../best-effort'
import { nowSeconds } from '../clock'
import type { AuthOptions } from '../options'
import type {
  NewUser,
  PublicUser,
  RefreshRecord,
  SessionRow,
  SessionScope,
  SessionWithOwner,
} from '../ports'
import { claimsProof } from './access-claims'
import { signAccessToken, verifyAccessToken } from './access-token'
import type { AccessClaims } from './access-token'
import type { Core } from './core'
import { newDevice } from './devices'
import {
  constantTimeEqualText,
  isOpaqueToken,
  newOpaqueToken,
  sha256Base64Url,
  shardTag,
} from './encoding'
import {
  AccessTokenExpired,
  AccountChangedMeanwhile,
  InvalidAccessToken,
  InvalidCredentials,
  InvalidRefreshToken,
  RefreshTokenReused,
  SessionEnded,
} from './errors'
import { openSuccessor, sealSuccessor } from './refresh-token'
import type { IssuedTokens, SignInMeta, VerifiedSignIn } from './sign-in'

const USER_AGENT_MAX_LENGTH = 256

/** User agents are shown back in the session list; keep them short and printable. */
export const sanitizeUserAgent = (userAgent: string | undefined): string | null => {
  if (!userAgent) return null
  const printable = userAgent.replace(/[^\x20-\x7e]/g, '').trim()
  return printable ? printable.slice(0, USER_AGENT_MAX_LENGTH) : null
}

/** How the session's user proved who they are: the `amr` and `auth_time` its tokens carry. */
interface Proof {
  amr: string[]
  authTime: number
}

interface Chain extends Proof {
  sessionId: string
  userId: string
  refreshToken: string
  refreshExpiresAt: number
}

const isAmr = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'string')

/** The stored proof; rows from before the column default to a password at the session's start. */
const proofOf = (session: Pick<SessionRow, 'amr' | 'auth_time' | 'created_at'>): Proof => {
  let amr: unknown = null
  try {
    amr = JSON.parse(session.amr)
  } catch {
    amr = null
  }
  return { amr: isAmr(amr) ? amr : ['pwd'], authTime: session.auth_time ?? session.created_at }
}

const issueTokens = async (
  options: AuthOptions,
  chain: Chain,
  now: number
): Promise<IssuedTokens> => {
  const access = await signAccessToken(options, chain)
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
const refreshExpiry = (options: AuthOptions, now: number, sessionCreatedAt: number): number =>
  Math.min(now + options.refreshTokenTtl, sessionCreatedAt + options.sessionMaxAge)

/**
 * The server secret the successor box is keyed with: the HMAC secret, or the active private key.
 * Changing it (a new secret, another active key) only makes boxes of the last grace window
 * unreadable, which ends those sessions as a replay would.
 */
const boxSecret = (options: AuthOptions): string => {
  const material = options.signer.material()
  return material.algorithm === 'HS256'
    ? material.secret
    : (material.keySet.active.privateJwk.d ?? '')
}

/** A new chain's first token, its record written to the index and its row to be inserted. */
const openChain = async (core: Core, userId: string, meta: SignInMeta, proof: Proof) => {
  const { options, ports } = core
  options.signer.check()
  const now = nowSeconds()
  const sessionId = shardTag(userId) + crypto.randomUUID()
  const refreshToken = newOpaqueToken()
  const refreshHash = await sha256Base64Url(refreshToken)
  const refreshExpiresAt = refreshExpiry(options, now, now)
  // KV first: should D1 then fail, the record names a session that never existed and is useless.
  await ports.refreshIndex.put(
    refreshHash,
    { sid: sessionId, uid: userId, exp: refreshExpiresAt },
    now
  )
  const row = {
    id: sessionId,
    user_id: userId,
    refresh_hash: refreshHash,
    user_agent: meta.userAgent,
    created_at: now,
    expires_at: refreshExpiresAt,
    amr: JSON.stringify(proof.amr),
    auth_time: proof.authTime,
  }
  const chain: Chain = { sessionId, userId, refreshToken, refreshExpiresAt, ...proof }
  return { row, issue: () => issueTokens(options, chain, now) }
}

/**
 * Opens a session from a verified sign-in. The insert lands only while the user's credential
 * version is still the one read with the checked credential: a sign-in that raced a password
 * change or reset gets no session (InvalidCredentials).
 */
export const startSession = async (
  core: Core,
  signIn: VerifiedSignIn,
  meta: SignInMeta
): Promise<IssuedTokens> => {
  const { row, issue } = await openChain(core, signIn.userId, meta, signIn)
  const device = signIn.knownDevice
    ? null
    : await newDevice(signIn.userId, signIn.credentialVersion, row.created_at)
  const landed = await core.ports.sessions.insert(row, {
    credentialVersion: signIn.credentialVersion,
    release: signIn.reservation,
    device: device?.row,
  })
  if (!landed) throw new InvalidCredentials('The credentials changed while signing in')
  return { ...(await issue()), deviceToken: device?.token }
}

/**
 * Registration: the user is inserted in the same transaction as their first session, so that a
 * user never exists without the session it was promised.
 */
export const startSessionForNewUser = async (
  core: Core,
  user: NewUser,
  meta: SignInMeta,
  proof: Proof
): Promise<IssuedTokens> => {
  const { row, issue } = await openChain(core, user.id, meta, proof)
  // A new account's credential version is 0 (the column's default).
  const device = await newDevice(user.id, 0, row.created_at)
  await core.ports.users.insertWithSession(user, row, device.row)
  return { ...(await issue()), deviceToken: device.token }
}

/**
 * Rotates the chain of a refresh token whose index record is in hand. The used token dies;
 * replaying it inside the grace window returns the same successor (two tabs refreshing at once),
 * and after it ends the session. The session row read comes back too: a successful rotation is
 * itself proof that the session is live, so callers need no second check.
 */
const rotate = async (
  core: Core,
  refreshToken: string,
  tokenHash: string,
  record: RefreshRecord,
  now: number
): Promise<IssuedTokens & { user: PublicUser; proof: Proof }> => {
  const { options, ports } = core
  let session: SessionWithOwner | null = await ports.sessions.find(record.sid)
  const live = (row: SessionWithOwner | null): row is SessionWithOwner =>
    row !== null && row.revoked_at === null && row.expires_at > now
  if (!live(session) || session.user_id !== record.uid) throw new InvalidRefreshToken()
  const proof = proofOf(session)

  if (constantTimeEqualText(session.refresh_hash, tokenHash)) {
    const successor = newOpaqueToken()
    const successorHash = await sha256Base64Url(successor)
    const refreshExpiresAt = refreshExpiry(options, now, session.created_at)
    const ids = { sessionId: session.id, userId: session.user_id }
    await ports.refreshIndex.put(
      successorHash,
      { sid: ids.sessionId, uid: ids.userId, exp: refreshExpiresAt },
      now
    )
    const won = await ports.sessions.rotate({
      id: session.id,
      expectedHash: tokenHash,
      nextHash: successorHash,
      successorBox: await sealSuccessor(boxSecret(options), session.id, refreshToken, successor),
      now,
      expiresAt: refreshExpiresAt,
    })
    const chain = { ...ids, ...proof, refreshToken: successor, refreshExpiresAt }
    if (won) return { ...(await issueTokens(options, chain, now)), user: session.owner, proof }
    // A concurrent request rotated first; decide against the row as it is now.
    session = await ports.sessions.find(record.sid)
    if (!live(session)) throw new InvalidRefreshToken()
  }

  const rotatedAt = session.rotated_at
  // Strictly less, on whole seconds: the window never exceeds the configured length (the contract
  // says at most 10 s), and a grace of 0 switches it off instead of meaning "the same second".
  const withinGrace = rotatedAt !== null && now - rotatedAt < options.reuseGraceSeconds
  const isPrevious =
    session.previous_hash !== null && constantTimeEqualText(session.previous_hash, tokenHash)
  if (isPrevious && withinGrace && session.successor_box) {
    const successor = await openSuccessor(
      boxSecret(options),
      session.id,
      refreshToken,
      session.successor_box
    )
    if (successor) {
      const chain = {
        sessionId: session.id,
        userId: session.user_id,
        ...proof,
        refreshToken: successor,
        refreshExpiresAt: session.expires_at,
      }
      return { ...(await issueTokens(options, chain, now)), user: session.owner, proof }
    }
  }

  // A token of this chain that was rotated away is being replayed: assume it was stolen. Of two
  // racing replays only the one that ended the session reports the reuse.
  if (await ports.sessions.revoke(session.id, now)) {
    throw new RefreshTokenReused(session.user_id, session.id)
  }
  throw new InvalidRefreshToken('The refresh token was already used; its session has been ended.')
}

/** The index record of a well-formed refresh token, or null. */
const lookUp = async (core: Core, refreshToken: string) => {
  if (!isOpaqueToken(refreshToken)) return null
  const tokenHash = await sha256Base64Url(refreshToken)
  const record = await core.ports.refreshIndex.get(tokenHash)
  return record ? { tokenHash, record } : null
}

/** Exchanges a refresh token for a new pair (POST /auth/refresh, the OAuth token endpoint). */
export const refreshSession = async (
  core: Core,
  refreshToken: string
): Promise<IssuedTokens & { user: PublicUser }> => {
  // Before the token is even looked at, as no rotation may be written that cannot be signed.
  core.options.signer.check()
  const now = nowSeconds()
  const found = await lookUp(core, refreshToken)
  if (!found || found.record.exp <= now) throw new InvalidRefreshToken()
  return rotate(core, refreshToken, found.tokenHash, found.record, now)
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
  core: Core,
  refreshToken: string
): Promise<RefreshTokenOwner | null> => {
  const found = await lookUp(core, refreshToken)
  return found
    ? { userId: found.record.uid, sessionId: found.record.sid, expiresAt: found.record.exp }
    : null
}

/** Who a request acts for, once its access token and session have been checked. */
export interface Authenticated {
  userId: string
  sessionId: string
  /** The presented (or renewed) token's `amr` and `auth_time`. */
  amr: string[]
  authTime: number
  user: PublicUser
  /** The presented token's verified claims (for a renewed one, those of the token it replaced). */
  claims: AccessClaims
  /** Set when the access token was renewed in passing: the new pair, for the cookies. */
  renewed?: IssuedTokens
}

export interface AuthenticateOptions {
  /**
   * Cookie mode: a refresh token of the access token's own session, to renew an access token
   * that has expired or is about to (ACCESS_REFRESH_MARGIN). Null where renewal is not allowed.
   */
  renewWith?: string | null
}

/**
 * The one session check: a valid access token whose session is live and still its subject's.
 * Without renewal that is one read of the session (with its owner's profile). With a renewal due,
 * the rotation's own reads stand in for it: one index read, one session read, one index write and
 * the rotation (which only lands on a live session), four round trips in all.
 */
export const authenticate = async (
  core: Core,
  accessToken: string,
  { renewWith }: AuthenticateOptions = {}
): Promise<Authenticated> => {
  const { options, ports } = core
  // A genuine but expired token still names its session: renewal is only for that session.
  const claims = await verifyAccessToken(options, accessToken, {
    acceptExpired: renewWith !== undefined,
  })
  const now = nowSeconds()
  const remaining = claims.exp - now
  if (renewWith && remaining <= options.accessRefreshMargin) {
    const found = await lookUp(core, renewWith)
    // Unknown or long gone: nothing to renew with, so the access token's own state decides.
    if (found !== null && found.record.sid !== claims.sid) {
      throw new InvalidAccessToken('The access and refresh cookies belong to different sessions')
    }
    if (found !== null && found.record.exp > now) {
      try {
        options.signer.check()
        // Parallel requests of one page all carry the same refresh cookie: the first rotates it,
        // the others land in the grace window and get the same successor, not a theft alarm.
        const renewed = await rotate(core, renewWith, found.tokenHash, found.record, now)
        return {
          userId: renewed.userId,
          sessionId: renewed.sessionId,
          ...renewed.proof,
          user: renewed.user,
          claims,
          renewed,
        }
      } catch (error) {
        if (!(error instanceof InvalidRefreshToken)) throw error
        // A replayed refresh cookie has just ended the session: say so (the owner is told, by the
        // caller, as at /auth/refresh), rather than that the access token expired.
        if (error instanceof RefreshTokenReused) {
          throw new SessionEnded(
            'The refresh cookie was already used; its session has been ended.',
            {
              cause: error,
            }
          )
        }
        // The access token may still have a few seconds; otherwise the client learns it expired.
      }
    }
  }
  if (remaining <= 0) throw new AccessTokenExpired()
  const session = await ports.sessions.check(claims.sid, options.sessionCheck)
  if (
    session?.user_id !== claims.sub ||
    session.revoked_at !== null ||
    session.expires_at <= nowSeconds()
  ) {
    throw new SessionEnded()
  }
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    ...claimsProof(claims),
    user: session.owner,
    claims,
  }
}

/**
 * The user proved who they are again (POST /auth/reauthenticate): the same session gets a new
 * chain head and the new proof, which refreshing keeps. The old refresh token is rotated away
 * with no grace window, and its record tidied.
 */
export const reproveSession = async (
  core: Core,
  sessionId: string,
  amr: string[]
): Promise<IssuedTokens & { user: PublicUser }> => {
  const { options, ports } = core
  // A concurrent refresh may move the head between the read and the swap: read again once.
  for (let attempt = 0; attempt < 2; attempt++) {
    const now = nowSeconds()
    const session = await ports.sessions.find(sessionId)
    if (session?.revoked_at !== null || session.expires_at <= now) throw new SessionEnded()
    const refreshToken = newOpaqueToken()
    const nextHash = await sha256Base64Url(refreshToken)
    const refreshExpiresAt = refreshExpiry(options, now, session.created_at)
    const userId = session.user_id
    await ports.refreshIndex.put(
      nextHash,
      { sid: sessionId, uid: userId, exp: refreshExpiresAt },
      now
    )
    const landed = await ports.sessions.reprove({
      id: sessionId,
      expectedHash: session.refresh_hash,
      nextHash,
      amr: JSON.stringify(amr),
      authTime: now,
      expiresAt: refreshExpiresAt,
    })
    if (landed) {
      await forgetRefreshTokens(core, [session.refresh_hash])
      const chain = { sessionId, userId, refreshToken, refreshExpiresAt, amr, authTime: now }
      return { ...(await issueTokens(options, chain, now)), user: session.owner }
    }
  }
  throw new AccountChangedMeanwhile()
}

/** Tidies the index after D1 has committed; the records are already useless, so only logged. */
export const forgetRefreshTokens = (core: Core, tokenHashes: string[]): Promise<void> =>
  bestEffort('refresh token cleanup failed', () => core.ports.refreshIndex.delete(tokenHashes))

/**
 * Ends some of a user's live sessions: revoked in D1 first (that alone makes their tokens
 * useless), then their refresh records tidied from KV. Returns how many sessions ended.
 */
export const endSessions = async (
  core: Core,
  userId: string,
  scope: SessionScope
): Promise<number> => {
  const ended = await core.ports.sessions.revokeUserSessions(userId, scope, nowSeconds())
  await forgetRefreshTokens(core, ended)
  return ended.length
}

export const listSessions = (core: Core, userId: string): Promise<SessionRow[]> =>
  core.ports.sessions.listLive(userId, nowSeconds())
