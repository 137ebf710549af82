/** Every query on the sessions table: the authority on which refresh token of a chain is live. */
import { runBatch } from './batch'
import { guardD1 } from './guard'
import { releaseAttemptStatement } from './login-failures'
import type { Reservation } from './login-failures'
import type { PublicUser } from './users'

export interface SessionRow {
  id: string
  user_id: string
  refresh_hash: string
  previous_hash: string | null
  rotated_at: number | null
  successor_box: string | null
  user_agent: string | null
  created_at: number
  last_used_at: number
  expires_at: number
  revoked_at: number | null
}

export type NewSession = Pick<
  SessionRow,
  'id' | 'user_id' | 'refresh_hash' | 'user_agent' | 'created_at' | 'expires_at'
>

export const isSessionLive = (session: SessionRow | null, now: number): session is SessionRow =>
  session !== null && session.revoked_at === null && session.expires_at > now

/**
 * Store-internal (registration inserts the session in the user's transaction, store/users.ts).
 * The insert only lands while the owner's stored hash is `passwordHash`, the one the password was
 * checked against; RETURNING gives one row when it landed. D1 runs statements one at a time, so a
 * password change either commits first (this inserts nothing) or after (and ends this session).
 */
export const insertSessionStatement = (
  db: D1Database,
  session: NewSession,
  passwordHash: string
): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sessions (id, user_id, refresh_hash, user_agent, created_at, last_used_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?5, ?6
        WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?7)
       RETURNING id`
    )
    .bind(
      session.id,
      session.user_id,
      session.refresh_hash,
      session.user_agent,
      session.created_at,
      session.expires_at,
      passwordHash
    )

/**
 * A login's session, in one transaction with giving the throttle back the login's place. Returns
 * false when the password changed since it was checked (no session was inserted).
 */
export const insertSession = async (
  db: D1Database,
  session: NewSession,
  login: { passwordHash: string; reservation: Reservation }
): Promise<boolean> => {
  const results = await runBatch(db, [
    releaseAttemptStatement(db, login.reservation),
    insertSessionStatement(db, session, login.passwordHash),
  ])
  return results.at(-1)?.length === 1
}

/** A session with its owner's public profile: a refresh answers with both. */
export type SessionWithOwner = SessionRow & { owner: PublicUser }

type SessionOwnerRow = SessionRow & {
  owner_email: string
  owner_nickname: string | null
  owner_created_at: string
  owner_email_verified_at: string | null
}

/** One query for the session and its owner, so that a refresh does not read the user again. */
export const findSession = async (db: D1Database, id: string): Promise<SessionWithOwner | null> => {
  const row = await guardD1(() =>
    db
      .prepare(
        `SELECT s.*, u.email AS owner_email, u.nickname AS owner_nickname, u.created_at AS owner_created_at,
                u.email_verified_at AS owner_email_verified_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1`
      )
      .bind(id)
      .first<SessionOwnerRow>()
  )
  if (!row) return null
  const {
    owner_email: email,
    owner_nickname: nickname,
    owner_created_at: createdAt,
    owner_email_verified_at: emailVerifiedAt,
    ...session
  } = row
  return {
    ...session,
    owner: {
      id: session.user_id,
      email,
      nickname,
      created_at: createdAt,
      email_verified_at: emailVerifiedAt,
    },
  }
}

/** A session's liveness with its owner's public profile (no password hash). */
export type SessionState = Pick<SessionRow, 'user_id' | 'expires_at' | 'revoked_at'> & {
  email: string
  nickname: string | null
  user_created_at: string
  email_verified_at: string | null
}

/**
 * Where the session check reads: the binding itself goes to the primary; a Sessions API session
 * with no bookmark may be served by the nearest read replica, as fresh as that replica is.
 */
export const sessionCheckReader = (
  db: D1Database,
  mode: 'primary' | 'replica'
): Pick<D1Database, 'prepare'> => (mode === 'replica' ? db.withSession('first-unconstrained') : db)

/**
 * The hot-path check of every protected request: one indexed read. It brings the owner's profile
 * along, so that GET /me needs no second round trip (the benchmark showed each D1 query costing
 * about as much as the rest of the request).
 */
export const findSessionState = (
  db: Pick<D1Database, 'prepare'>,
  id: string
): Promise<SessionState | null> =>
  guardD1(() =>
    db
      .prepare(
        `SELECT s.user_id, s.expires_at, s.revoked_at, u.email, u.nickname, u.created_at AS user_created_at,
                u.email_verified_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1`
      )
      .bind(id)
      .first<SessionState>()
  )

export interface Rotation {
  id: string
  expectedHash: string
  nextHash: string
  successorBox: string
  now: number
  expiresAt: number
}

/** Compare-and-swap on the chain's head: exactly one of two racing rotations can win. */
export const rotateSessionToken = async (db: D1Database, rotation: Rotation): Promise<boolean> => {
  const result = await guardD1(() =>
    db
      .prepare(
        `UPDATE sessions
            SET refresh_hash = ?3, previous_hash = ?2, rotated_at = ?5, successor_box = ?4,
                last_used_at = ?5, expires_at = ?6
          WHERE id = ?1 AND refresh_hash = ?2 AND revoked_at IS NULL`
      )
      .bind(
        rotation.id,
        rotation.expectedHash,
        rotation.nextHash,
        rotation.successorBox,
        rotation.now,
        rotation.expiresAt
      )
      .run()
  )
  return result.meta.changes === 1
}

export const revokeSession = async (db: D1Database, id: string, now: number): Promise<boolean> => {
  const result = await guardD1(() =>
    db
      .prepare(
        'UPDATE sessions SET revoked_at = ?2, successor_box = NULL WHERE id = ?1 AND revoked_at IS NULL'
      )
      .bind(id, now)
      .run()
  )
  return result.meta.changes === 1
}

/** Which of a user's live sessions to end. */
export type SessionScope = { only: string } | { except: string } | 'all'

/**
 * Ends some of a user's live sessions; RETURNING gives the heads of the ended chains. An expired
 * session counts as ended already, so that ending it is as much a 404 as it is absent from the list.
 */
const revokeUserSessionsStatement = (
  db: D1Database,
  userId: string,
  scope: SessionScope,
  now: number
): D1PreparedStatement => {
  const only = typeof scope === 'object' && 'only' in scope ? scope.only : null
  const except = typeof scope === 'object' && 'except' in scope ? scope.except : null
  return db
    .prepare(
      `UPDATE sessions SET revoked_at = ?2, successor_box = NULL
        WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
          AND (?3 IS NULL OR id = ?3) AND (?4 IS NULL OR id != ?4)
        RETURNING refresh_hash`
    )
    .bind(userId, now, only, except)
}

/**
 * The session half of a password change, for the same transaction right after the hash update:
 * ends every live session but the current one only if the user's row now holds `passwordHash`, so
 * that an update that lost a race with another change of the hash ends nothing either.
 */
export const revokeOtherSessionsIfPasswordStatement = (
  db: D1Database,
  subject: { userId: string; sessionId: string },
  passwordHash: string,
  now: number
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE sessions SET revoked_at = ?3, successor_box = NULL
        WHERE user_id = ?1 AND id != ?2 AND revoked_at IS NULL AND expires_at > ?3
          AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash = ?4)
        RETURNING refresh_hash`
    )
    .bind(subject.userId, subject.sessionId, now, passwordHash)

export const revokeUserSessions = async (
  db: D1Database,
  userId: string,
  scope: SessionScope,
  now: number
): Promise<string[]> => {
  const result = await guardD1(() =>
    revokeUserSessionsStatement(db, userId, scope, now).all<{ refresh_hash: string }>()
  )
  return result.results.map((row) => row.refresh_hash)
}

export const listLiveSessions = async (
  db: D1Database,
  userId: string,
  now: number
): Promise<SessionRow[]> => {
  const result = await guardD1(() =>
    db
      .prepare(
        `SELECT * FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
          ORDER BY created_at DESC, id`
      )
      .bind(userId, now)
      .all<SessionRow>()
  )
  return result.results
}

export const liveRefreshHashes = async (db: D1Database, userId: string): Promise<string[]> => {
  const result = await guardD1(() =>
    db
      .prepare('SELECT refresh_hash FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL')
      .bind(userId)
      .all<{ refresh_hash: string }>()
  )
  return result.results.map((row) => row.refresh_hash)
}
