/**
 * Every query on one_time_tokens: issuing a token within the per-account message budget, and
 * redeeming one, where single use is decided by conditional UPDATEs inside one D1 transaction.
 */
import type {
  MessageBudget,
  NewOneTimeToken,
  OneTimePurpose,
  OneTimeTokenStore,
  PasswordReset,
  PublicUser,
  TokenHolder,
} from '../../ports'
import { runBatch, statementsOf } from './batch'
import { endSessionsStatement } from './sessions'

/**
 * Inserts the token only while the account has had fewer than `budget.limit` tokens of this
 * purpose issued in the window: one statement, so that concurrent requests cannot both see room
 * for the last message. Earlier tokens are left alone (a newer link never kills an older one).
 * False when the budget is spent.
 */
const insertTokenWithinBudget = async (
  db: D1Database,
  token: NewOneTimeToken,
  budget: MessageBudget
): Promise<boolean> => {
  const row = await db
    .prepare(
      `INSERT INTO one_time_tokens
           (token_hash, purpose, user_id, email, password_fingerprint, created_at, expires_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
          WHERE (SELECT COUNT(*) FROM one_time_tokens
                  WHERE user_id = ?3 AND purpose = ?2 AND created_at > ?8) < ?9
         RETURNING token_hash`
    )
    .bind(
      token.tokenHash,
      token.purpose,
      token.userId,
      token.email,
      token.passwordFingerprint,
      token.now,
      token.expiresAt,
      token.now - budget.windowSeconds,
      budget.limit
    )
    .first<{ token_hash: string }>()
  return row !== null
}

/** The unused, unexpired token of this purpose whose address is still the account's address. */
const findLiveToken = async (
  db: D1Database,
  tokenHash: string,
  purpose: OneTimePurpose,
  now: number
): Promise<TokenHolder | null> => {
  const row = await db
    .prepare(
      `SELECT t.user_id, t.email, t.password_fingerprint, u.password_hash, u.email_verified_at
           FROM one_time_tokens t JOIN users u ON u.id = t.user_id AND u.email = t.email
          WHERE t.token_hash = ?1 AND t.purpose = ?2 AND t.used_at IS NULL AND t.expires_at > ?3`
    )
    .bind(tokenHash, purpose, now)
    .first<{
      user_id: string
      email: string
      password_fingerprint: string | null
      password_hash: string
      email_verified_at: string | null
    }>()
  if (!row) return null
  return {
    userId: row.user_id,
    email: row.email,
    passwordHash: row.password_hash,
    passwordFingerprint: row.password_fingerprint,
    emailVerifiedAt: row.email_verified_at,
  }
}

/**
 * One transaction: the password moves from the hash the token was checked against to the new
 * one only while the token is unused and unexpired; the token is then marked used only if the
 * row holds this request's new hash (unique: its salt is random), so of two racing redemptions
 * exactly one lands. The same condition gates ending every session, clearing the failed-login
 * count and marking the address verified (the link reached it). Returns the ended sessions'
 * refresh hashes, or null when the token was not redeemed.
 */
const redeemPasswordReset = async (
  db: D1Database,
  reset: PasswordReset
): Promise<string[] | null> => {
  const { tokenHash, holder, newPasswordHash, now, nowIso, steps } = reset
  const landed = 'EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_hash = ?2)'
  const [, used, ended] = await runBatch<{ token_hash?: string; refresh_hash?: string }>(db, [
    db
      .prepare(
        `UPDATE users
            SET password_hash = ?2, updated_at = ?3, email_verified_at = COALESCE(email_verified_at, ?3),
                credential_version = credential_version + 1
          WHERE id = ?1 AND password_hash = ?4
            AND EXISTS (SELECT 1 FROM one_time_tokens
                         WHERE token_hash = ?5 AND used_at IS NULL AND expires_at > ?6)`
      )
      .bind(holder.userId, newPasswordHash, nowIso, holder.passwordHash, tokenHash, now),
    db
      .prepare(
        `UPDATE one_time_tokens SET used_at = ?4
          WHERE token_hash = ?3 AND used_at IS NULL AND ${landed}
          RETURNING token_hash`
      )
      .bind(holder.userId, newPasswordHash, tokenHash, now),
    endSessionsStatement(
      db,
      now,
      `user_id = ?2 AND expires_at > ?1
         AND EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash = ?3)`,
      holder.userId,
      newPasswordHash
    ),
    db
      .prepare(`DELETE FROM login_failures WHERE email = ?3 AND ${landed}`)
      .bind(holder.userId, newPasswordHash, holder.email),
    // The features' removal of what was added before the address was proven. The token was live
    // a moment ago; should a racing redemption win, it removes the same things.
    ...statementsOf(steps ?? []),
  ])
  if (used.length !== 1) return null
  return ended.map((row) => String(row.refresh_hash))
}

/**
 * Marks the token used and the address verified in one transaction; the user row changes only
 * if this very statement used the token. Null when the token was not redeemed.
 */
const redeemEmailVerification = async (
  db: D1Database,
  tokenHash: string,
  holder: TokenHolder,
  now: number,
  nowIso: string
): Promise<PublicUser | null> => {
  const [used, users] = await runBatch(db, [
    db
      .prepare(
        `UPDATE one_time_tokens SET used_at = ?2
          WHERE token_hash = ?1 AND purpose = 'email_verification' AND used_at IS NULL
            AND expires_at > ?2
          RETURNING token_hash`
      )
      .bind(tokenHash, now),
    // A racing duplicate also passes this test, harmlessly: COALESCE keeps the first time, and
    // its own UPDATE above returned nothing, so it answers 400.
    db
      .prepare(
        `UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?3)
          WHERE id = ?1 AND email = ?2
            AND EXISTS (SELECT 1 FROM one_time_tokens WHERE token_hash = ?4 AND used_at IS NOT NULL)
          RETURNING id, email, nickname, created_at, email_verified_at, mfa`
      )
      .bind(holder.userId, holder.email, nowIso, tokenHash),
  ])
  if (used.length !== 1 || users.length !== 1) return null
  return users[0] as unknown as PublicUser
}

export const d1OneTimeTokenStore = (db: D1Database): OneTimeTokenStore => ({
  insertWithinBudget: (token, budget) => insertTokenWithinBudget(db, token, budget),
  findLive: (tokenHash, purpose, now) => findLiveToken(db, tokenHash, purpose, now),
  redeemPasswordReset: (reset) => redeemPasswordReset(db, reset),
  redeemEmailVerification: (tokenHash, holder, now, nowIso) =>
    redeemEmailVerification(db, tokenHash, holder, now, nowIso),
})
