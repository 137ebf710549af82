/** Every query on the users table, and the transactions that change a user with their sessions. */
import { runBatch } from './batch'
import { guardD1 } from './guard'
import { insertSessionStatement, revokeOtherSessionsIfPasswordStatement } from './sessions'
import type { NewSession } from './sessions'

export interface UserRow {
  id: string
  email: string
  nickname: string | null
  password_hash: string
  created_at: string
  updated_at: string
  /** When the address was proven (a verification or reset link was used); null until then. */
  email_verified_at: string | null
}

export type NewUser = Omit<UserRow, 'updated_at' | 'email_verified_at'>

/** What a client may see of a user. */
export type PublicUser = Pick<
  UserRow,
  'id' | 'email' | 'nickname' | 'created_at' | 'email_verified_at'
>

/**
 * Registration: the user and their first session in one transaction, so that a user never exists
 * without the session it was promised. A taken email throws UniqueViolation.
 */
export const insertUserWithSession = async (
  db: D1Database,
  user: NewUser,
  session: NewSession
): Promise<void> => {
  await runBatch(db, [
    db
      .prepare(
        'INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)'
      )
      .bind(user.id, user.email, user.nickname, user.password_hash, user.created_at),
    insertSessionStatement(db, session, user.password_hash),
  ])
}

/** An account without a session (registration when the address must be verified first). */
export const insertUser = async (db: D1Database, user: NewUser): Promise<void> => {
  await guardD1(() =>
    db
      .prepare(
        'INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)'
      )
      .bind(user.id, user.email, user.nickname, user.password_hash, user.created_at)
      .run()
  )
}

export const findUserByEmail = (db: D1Database, email: string): Promise<UserRow | null> =>
  guardD1(() => db.prepare('SELECT * FROM users WHERE email = ?1').bind(email).first<UserRow>())

export const findUserById = (db: D1Database, id: string): Promise<UserRow | null> =>
  guardD1(() => db.prepare('SELECT * FROM users WHERE id = ?1').bind(id).first<UserRow>())

export const emailIsTaken = async (db: D1Database, email: string): Promise<boolean> =>
  (await guardD1(() =>
    db.prepare('SELECT 1 AS taken FROM users WHERE email = ?1').bind(email).first()
  )) !== null

export const updateNickname = (
  db: D1Database,
  id: string,
  nickname: string | null,
  updatedAt: string
): Promise<UserRow | null> =>
  guardD1(() =>
    db
      .prepare('UPDATE users SET nickname = ?2, updated_at = ?3 WHERE id = ?1 RETURNING *')
      .bind(id, nickname, updatedAt)
      .first<UserRow>()
  )

/** Only replaces the hash it was computed against, so a concurrent password change wins. */
const replacePasswordHashStatement = (
  db: D1Database,
  id: string,
  previousHash: string,
  passwordHash: string,
  updatedAt: string
): D1PreparedStatement =>
  db
    .prepare(
      'UPDATE users SET password_hash = ?3, updated_at = ?4 WHERE id = ?1 AND password_hash = ?2'
    )
    .bind(id, previousHash, passwordHash, updatedAt)

/** What a password change did: whether the swap landed, and the heads of the chains it ended. */
export interface PasswordReplacement {
  landed: boolean
  endedRefreshHashes: string[]
}

/**
 * A password change in one transaction: swap the hash (only if it is still `previousHash`), end
 * every other live session if the row now holds `newHash`, and read back whether it does.
 */
export const replacePasswordEndingOtherSessions = async (
  db: D1Database,
  change: {
    userId: string
    sessionId: string
    previousHash: string
    newHash: string
    updatedAt: string
    now: number
  }
): Promise<PasswordReplacement> => {
  const { userId, sessionId, previousHash, newHash, updatedAt, now } = change
  const [, ended, landed] = await runBatch<{ refresh_hash: string }>(db, [
    replacePasswordHashStatement(db, userId, previousHash, newHash, updatedAt),
    revokeOtherSessionsIfPasswordStatement(db, { userId, sessionId }, newHash, now),
    db
      .prepare('SELECT 1 AS present FROM users WHERE id = ?1 AND password_hash = ?2')
      .bind(userId, newHash),
  ])
  return { landed: landed.length === 1, endedRefreshHashes: ended.map((row) => row.refresh_hash) }
}

/** Whether the swap landed (false when another write changed the hash first). */
export const replacePasswordHash = async (
  db: D1Database,
  id: string,
  previousHash: string,
  passwordHash: string,
  updatedAt: string
): Promise<boolean> => {
  const result = await guardD1(() =>
    replacePasswordHashStatement(db, id, previousHash, passwordHash, updatedAt).run()
  )
  return result.meta.changes === 1
}

/** Notes and sessions go in the same transaction, so no orphan survives a failure half-way. */
export const deleteUserCascade = async (db: D1Database, id: string): Promise<void> => {
  await guardD1(() =>
    db.batch([
      db.prepare('DELETE FROM notes WHERE user_id = ?1').bind(id),
      db.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(id),
      db.prepare('DELETE FROM one_time_tokens WHERE user_id = ?1').bind(id),
      // The failed-login counter is keyed by email: nothing of the address may outlive the account.
      db
        .prepare('DELETE FROM login_failures WHERE email = (SELECT email FROM users WHERE id = ?1)')
        .bind(id),
      db.prepare('DELETE FROM users WHERE id = ?1').bind(id),
    ])
  )
}
