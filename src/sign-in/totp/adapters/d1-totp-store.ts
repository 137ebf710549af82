/**
 * totp_credentials and recovery_codes in D1. Every single-use decision (a time step, a recovery
 * code, a confirmation) is one conditional UPDATE; in a batch (a transaction) the other
 * statements are guarded by the same condition, so a loser of a race changes nothing.
 */
import type { TotpCredentialRow, TotpStore } from '../store'

/** The setup of this user (?1) still pending with this box (?2): a setup started again fails it. */
const PENDING = `EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = ?1 AND confirmed_at IS NULL AND secret_box = ?2)`
/** TOTP of this user (?1) is on. */
const CONFIRMED = `EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = ?1 AND confirmed_at IS NOT NULL)`

export const d1TotpStore = (db: D1Database): TotpStore => {
  /** The old codes go and the new ones (?3, a JSON array of hashes) come, under `guard`. */
  const replaceCodes = (guard: string, ...values: [string, string | null, string]) => [
    db
      .prepare(`DELETE FROM recovery_codes WHERE user_id = ?1 AND ${guard}`)
      .bind(...values.slice(0, 2)),
    db
      .prepare(
        `INSERT INTO recovery_codes (code_hash, user_id) SELECT value, ?1 FROM json_each(?3) WHERE ${guard}`
      )
      .bind(...values),
  ]
  /** TOTP set up before `before` (seconds; null: whenever) goes, with its codes and flag. */
  const removal = (userId: string, before: number | null = null) => {
    const added = `EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = ?1 AND (?2 IS NULL OR created_at < ?2))`
    return [
      db.prepare(`DELETE FROM recovery_codes WHERE user_id = ?1 AND ${added}`).bind(userId, before),
      db
        .prepare(`UPDATE users SET mfa = json_remove(mfa, '$.totp') WHERE id = ?1 AND ${added}`)
        .bind(userId, before),
      db
        .prepare(
          'DELETE FROM totp_credentials WHERE user_id = ?1 AND (?2 IS NULL OR created_at < ?2)'
        )
        .bind(userId, before),
    ]
  }
  return {
    find: (userId) =>
      db
        .prepare('SELECT * FROM totp_credentials WHERE user_id = ?1')
        .bind(userId)
        .first<TotpCredentialRow>(),

    async putPending(userId, secretBox, now) {
      const result = await db
        .prepare(
          `INSERT INTO totp_credentials (user_id, secret_box, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (user_id) DO UPDATE SET secret_box = excluded.secret_box, created_at = excluded.created_at, last_step = 0 WHERE confirmed_at IS NULL`
        )
        .bind(userId, secretBox, now)
        .run()
      return result.meta.changes === 1
    },

    // The confirming UPDATE comes last, so the guard of the others still sees the setup pending.
    async confirm(userId, secretBox, step, codeHashes, now) {
      const hashes = JSON.stringify(codeHashes)
      const results = await db.batch([
        ...replaceCodes(PENDING, userId, secretBox, hashes),
        db
          .prepare(
            `UPDATE users SET mfa = json_set(mfa, '$.totp', json('true')) WHERE id = ?1 AND ${PENDING}`
          )
          .bind(userId, secretBox),
        db
          .prepare(
            `UPDATE totp_credentials SET confirmed_at = ?3, last_step = ?4 WHERE user_id = ?1 AND confirmed_at IS NULL AND secret_box = ?2`
          )
          .bind(userId, secretBox, now, step),
      ])
      return results.at(-1)?.meta.changes === 1
    },

    async acceptStep(userId, step) {
      const result = await db
        .prepare(
          `UPDATE totp_credentials SET last_step = ?2 WHERE user_id = ?1 AND confirmed_at IS NOT NULL AND last_step < ?2`
        )
        .bind(userId, step)
        .run()
      return result.meta.changes === 1
    },

    async useRecoveryCode(userId, codeHash, now) {
      const result = await db
        .prepare(
          `UPDATE recovery_codes SET used_at = ?3 WHERE code_hash = ?2 AND user_id = ?1 AND used_at IS NULL AND ${CONFIRMED}`
        )
        .bind(userId, codeHash, now)
        .run()
      return result.meta.changes === 1
    },

    async replaceRecoveryCodes(userId, codeHashes) {
      // ?2 is unused by CONFIRMED; bound to keep the numbering of replaceCodes.
      const results = await db.batch(
        replaceCodes(`?2 IS NULL AND ${CONFIRMED}`, userId, null, JSON.stringify(codeHashes))
      )
      return results.at(-1)?.meta.changes === codeHashes.length
    },

    async remove(userId) {
      const results = await db.batch(removal(userId))
      return results.at(-1)?.meta.changes === 1
    },

    removalSteps: removal,
  }
}
