/** The users table, and the transactions that change a user together with their sessions. */
import type {
  DeviceRow,
  NewSession,
  NewUser,
  PasswordChange,
  UserRow,
  UserStore,
} from '../../ports'
import { runBatch, statementsOf } from './batch'
import { insertDeviceStatement } from './devices'
import { endSessionsStatement, insertSessionStatement } from './sessions'

const insertUserStatement = (db: D1Database, user: NewUser): D1PreparedStatement =>
  db
    .prepare(
      'INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)'
    )
    .bind(user.id, user.email, user.nickname, user.password_hash, user.created_at)

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

export const d1UserStore = (db: D1Database): UserStore => ({
  // A user is inserted with version 0 (the column's default), which the session insert checks.
  async insertWithSession(user: NewUser, session: NewSession, device?: DeviceRow) {
    await runBatch(db, [
      insertUserStatement(db, user),
      insertSessionStatement(db, session, 0),
      ...(device ? [insertDeviceStatement(db, device)] : []),
    ])
  },

  async insert(user) {
    await insertUserStatement(db, user).run()
  },

  findByEmail: (email) =>
    db.prepare('SELECT * FROM users WHERE email = ?1').bind(email).first<UserRow>(),

  findById: (id) => db.prepare('SELECT * FROM users WHERE id = ?1').bind(id).first<UserRow>(),

  async emailIsTaken(email) {
    const row = await db
      .prepare('SELECT 1 AS taken FROM users WHERE email = ?1')
      .bind(email)
      .first()
    return row !== null
  },

  rename: (id, nickname, updatedAt) =>
    db
      .prepare('UPDATE users SET nickname = ?2, updated_at = ?3 WHERE id = ?1 RETURNING *')
      .bind(id, nickname, updatedAt)
      .first<UserRow>(),

  async replacePasswordHash(id, previousHash, newHash, updatedAt) {
    const result = await replacePasswordHashStatement(
      db,
      id,
      previousHash,
      newHash,
      updatedAt
    ).run()
    return result.meta.changes === 1
  },

  /**
   * One transaction: swap the hash (only if it is still `previousHash`) and bump the credential
   * version, end every other live session if the row now holds `newHash`, and read back whether
   * it does (the new hash has a random salt, so holding it means this very swap landed).
   */
  async changePassword(change: PasswordChange) {
    const { userId, sessionId, previousHash, newHash, updatedAt, now } = change
    const [, ended, landed] = await runBatch<{ refresh_hash: string }>(db, [
      db
        .prepare(
          `UPDATE users SET password_hash = ?3, updated_at = ?4, credential_version = credential_version + 1
            WHERE id = ?1 AND password_hash = ?2`
        )
        .bind(userId, previousHash, newHash, updatedAt),
      endSessionsStatement(
        db,
        now,
        `user_id = ?2 AND id != ?3 AND expires_at > ?1
           AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?4)`,
        userId,
        sessionId,
        newHash
      ),
      db
        .prepare('SELECT 1 AS present FROM users WHERE id = ?1 AND password_hash = ?2')
        .bind(userId, newHash),
    ])
    return { landed: landed.length === 1, endedRefreshHashes: ended.map((row) => row.refresh_hash) }
  },

  async replaceUnverified(replacement) {
    const { id, email, nickname, passwordHash, now, nowIso } = replacement
    // The new hash has a random salt: holding it means this very replacement landed.
    const landed = 'EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash = ?2)'
    const [replaced] = await runBatch<UserRow>(db, [
      db
        .prepare(
          `UPDATE users SET password_hash = ?2, nickname = ?3, created_at = ?4, updated_at = ?4,
                  credential_version = credential_version + 1
            WHERE id = ?1 AND email = ?5 AND email_verified_at IS NULL
            RETURNING *`
        )
        .bind(id, passwordHash, nickname, nowIso, email),
      // Used, not deleted: a link of the old registration verifies nothing, yet still counts.
      db
        .prepare(
          `UPDATE one_time_tokens SET used_at = ?3 WHERE user_id = ?1 AND used_at IS NULL AND ${landed}`
        )
        .bind(id, passwordHash, now),
      endSessionsStatement(
        db,
        now,
        `user_id = ?2 AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?3)`,
        id,
        passwordHash
      ),
      // The features' part: what the earlier registrant attached (identities, factors) goes too.
      ...statementsOf(replacement.steps ?? []),
    ])
    return replaced[0] ?? null
  },

  /** Everything of the user in one transaction, so no orphan survives a failure half-way. */
  async deleteCascade(id, steps) {
    await db.batch([
      ...statementsOf(steps),
      db.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(id),
      db.prepare('DELETE FROM one_time_tokens WHERE user_id = ?1').bind(id),
      // Its history goes with the account; only the anonymised account_deleted event follows.
      db.prepare('DELETE FROM security_events WHERE user_id = ?1').bind(id),
      db.prepare('DELETE FROM device_tokens WHERE user_id = ?1').bind(id),
      // The failed-login counter is keyed by email: nothing of the address may outlive the account.
      db
        .prepare('DELETE FROM login_failures WHERE email = (SELECT email FROM users WHERE id = ?1)')
        .bind(id),
      db.prepare('DELETE FROM users WHERE id = ?1').bind(id),
    ])
  },
})
