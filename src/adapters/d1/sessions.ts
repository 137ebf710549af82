/**
 * The sessions table: the authority on which refresh token of a chain is live. Every statement
 * that ends sessions is built by `endSessionsStatement`, here, so that none forgets to drop the
 * successor box.
 */
import type {
  NewSession,
  PublicUser,
  Rotation,
  SessionRow,
  SessionScope,
  SessionState,
  SessionStore,
} from '../../ports'
import { runBatch } from './batch'
import { insertDeviceStatement } from './devices'
import { releaseAttemptStatement } from './login-failures'

/**
 * The one statement that ends sessions. `condition` is SQL over the sessions row that may use ?1
 * (now) and the bound `params` from ?2 on; RETURNING gives the heads of the ended chains. The box
 * goes too: it only serves a live chain's grace window, and a stolen copy of the row would hold it.
 */
export const endSessionsStatement = (
  db: D1Database,
  now: number,
  condition: string,
  ...params: unknown[]
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE sessions SET revoked_at = ?1, successor_box = NULL
        WHERE revoked_at IS NULL AND (${condition})
        RETURNING refresh_hash`
    )
    .bind(now, ...params)

/**
 * Lands only while the owner's credential version is still the one read with the credential
 * that was checked; RETURNING gives one row when it landed. D1 runs statements one at a time, so a
 * password change either commits first (this inserts nothing) or after (and ends this session).
 */
export const insertSessionStatement = (
  db: D1Database,
  session: NewSession,
  credentialVersion: number
): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sessions (id, user_id, refresh_hash, user_agent, created_at, last_used_at, expires_at, amr, auth_time)
       SELECT ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?8, ?9
        WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND credential_version = ?7)
       RETURNING id`
    )
    .bind(
      session.id,
      session.user_id,
      session.refresh_hash,
      session.user_agent,
      session.created_at,
      session.expires_at,
      credentialVersion,
      session.amr,
      session.auth_time
    )

interface OwnerColumns {
  owner_email: string
  owner_nickname: string | null
  owner_created_at: string
  owner_email_verified_at: string | null
  owner_mfa: string
}

const OWNER_COLUMNS = `u.email AS owner_email, u.nickname AS owner_nickname,
       u.created_at AS owner_created_at, u.email_verified_at AS owner_email_verified_at,
       u.mfa AS owner_mfa`

const splitOwner = <R extends OwnerColumns & { user_id: string }>(
  row: R
): Omit<R, keyof OwnerColumns> & { owner: PublicUser } => {
  const {
    owner_email: email,
    owner_nickname: nickname,
    owner_created_at: createdAt,
    owner_email_verified_at: emailVerifiedAt,
    owner_mfa: mfa,
    ...rest
  } = row
  return {
    ...rest,
    owner: {
      id: row.user_id,
      email,
      nickname,
      created_at: createdAt,
      email_verified_at: emailVerifiedAt,
      mfa,
    },
  }
}

const scopeCondition = (scope: SessionScope): [string, string | null, string | null] => {
  const only = typeof scope === 'object' && 'only' in scope ? scope.only : null
  const except = typeof scope === 'object' && 'except' in scope ? scope.except : null
  return [
    'user_id = ?2 AND expires_at > ?1 AND (?3 IS NULL OR id = ?3) AND (?4 IS NULL OR id != ?4)',
    only,
    except,
  ]
}

export const d1SessionStore = (db: D1Database): SessionStore => ({
  async insert(session, guard) {
    const insert = insertSessionStatement(db, session, guard.credentialVersion)
    const results = await runBatch(db, [
      ...(guard.release ? [releaseAttemptStatement(db, guard.release)] : []),
      ...(guard.device ? [insertDeviceStatement(db, guard.device)] : []),
      insert,
    ])
    return results.at(-1)?.length === 1
  },

  // One query for the session and its owner, so that a refresh does not read the user again.
  async find(id) {
    const row = await db
      .prepare(
        `SELECT s.*, ${OWNER_COLUMNS}
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1`
      )
      .bind(id)
      .first<SessionRow & OwnerColumns>()
    return row ? splitOwner(row) : null
  },

  /**
   * One indexed read that brings the owner's profile along, so that GET /me needs no second round
   * trip. `replica`: a Sessions API session with no bookmark, served by the nearest read replica.
   */
  async check(id, consistency) {
    const reader = consistency === 'replica' ? db.withSession('first-unconstrained') : db
    const row = await reader
      .prepare(
        `SELECT s.user_id, s.expires_at, s.revoked_at, s.amr, s.auth_time, ${OWNER_COLUMNS}
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = ?1`
      )
      .bind(id)
      .first<Omit<SessionState, 'owner'> & OwnerColumns>()
    return row ? splitOwner(row) : null
  },

  async rotate(rotation: Rotation) {
    const result = await db
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
    return result.meta.changes === 1
  },

  async reprove(reproof) {
    const result = await db
      .prepare(
        `UPDATE sessions SET refresh_hash = ?3, previous_hash = NULL, rotated_at = NULL, successor_box = NULL, amr = ?4, auth_time = ?5, last_used_at = ?5, expires_at = ?6 WHERE id = ?1 AND refresh_hash = ?2 AND revoked_at IS NULL AND expires_at > ?5`
      )
      .bind(
        reproof.id,
        reproof.expectedHash,
        reproof.nextHash,
        reproof.amr,
        reproof.authTime,
        reproof.expiresAt
      )
      .run()
    return result.meta.changes === 1
  },

  async revoke(id, now) {
    const result = await endSessionsStatement(db, now, 'id = ?2', id).run()
    return result.meta.changes === 1
  },

  // An expired session counts as ended already: ending it is as much a 404 as its absence.
  async revokeUserSessions(userId, scope, now) {
    const [condition, only, except] = scopeCondition(scope)
    const ended = await endSessionsStatement(db, now, condition, userId, only, except).all<{
      refresh_hash: string
    }>()
    return ended.results.map((row) => row.refresh_hash)
  },

  async listLive(userId, now) {
    const result = await db
      .prepare(
        `SELECT * FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
          ORDER BY created_at DESC, id`
      )
      .bind(userId, now)
      .all<SessionRow>()
    return result.results
  },

  async liveRefreshHashes(userId) {
    const result = await db
      .prepare('SELECT refresh_hash FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL')
      .bind(userId)
      .all<{ refresh_hash: string }>()
    return result.results.map((row) => row.refresh_hash)
  },
})
