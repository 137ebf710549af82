/** Every query on the users table. */
import { guardD1 } from './guard'

export interface UserRow {
  id: string
  email: string
  nickname: string | null
  password_hash: string
  created_at: string
  updated_at: string
}

export type NewUser = Omit<UserRow, 'updated_at'>

/** What a client may see of a user. */
export type PublicUser = Pick<UserRow, 'id' | 'email' | 'nickname' | 'created_at'>

export const insertUserStatement = (db: D1Database, user: NewUser): D1PreparedStatement =>
  db
    .prepare(
      'INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)'
    )
    .bind(user.id, user.email, user.nickname, user.password_hash, user.created_at)

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
export const replacePasswordHashStatement = (
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

/** One row when the user's hash is `passwordHash`: tells, inside a batch, whether a swap landed. */
export const passwordHashIsStatement = (
  db: D1Database,
  id: string,
  passwordHash: string
): D1PreparedStatement =>
  db
    .prepare('SELECT 1 AS present FROM users WHERE id = ?1 AND password_hash = ?2')
    .bind(id, passwordHash)

export const replacePasswordHash = async (
  db: D1Database,
  id: string,
  previousHash: string,
  passwordHash: string,
  updatedAt: string
): Promise<void> => {
  await guardD1(() =>
    replacePasswordHashStatement(db, id, previousHash, passwordHash, updatedAt).run()
  )
}

/** Notes and sessions go in the same transaction, so no orphan survives a failure half-way. */
export const deleteUserCascade = async (db: D1Database, id: string): Promise<void> => {
  await guardD1(() =>
    db.batch([
      db.prepare('DELETE FROM notes WHERE user_id = ?1').bind(id),
      db.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(id),
      // The failed-login counter is keyed by email: nothing of the address may outlive the account.
      db
        .prepare('DELETE FROM login_failures WHERE email = (SELECT email FROM users WHERE id = ?1)')
        .bind(id),
      db.prepare('DELETE FROM users WHERE id = ?1').bind(id),
    ])
  )
}
