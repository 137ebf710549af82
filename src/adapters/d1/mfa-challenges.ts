/** mfa_challenges: the mfa_tokens between a first and a second factor, decided in D1. */
import type { MfaChallengeRow, MfaChallengeStore } from '../../ports'

const LIVE = 'id = ?1 AND used_at IS NULL AND expires_at > ?2 AND failures < ?3'

export const d1MfaChallengeStore = (db: D1Database): MfaChallengeStore => ({
  async insert(row) {
    await db
      .prepare(
        `INSERT INTO mfa_challenges (id, user_id, amr, credential_version, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`
      )
      .bind(row.id, row.user_id, row.amr, row.credential_version, row.created_at, row.expires_at)
      .run()
  },

  findLive: (id, now, maxFailures) =>
    db
      .prepare(`SELECT * FROM mfa_challenges WHERE ${LIVE}`)
      .bind(id, now, maxFailures)
      .first<MfaChallengeRow>(),

  // The limit is read and counted in one statement: a sixth racing answer finds no row.
  takeAttempt: (id, now, maxFailures) =>
    db
      .prepare(`UPDATE mfa_challenges SET failures = failures + 1 WHERE ${LIVE} RETURNING *`)
      .bind(id, now, maxFailures)
      .first<MfaChallengeRow>(),

  // The answer that took the last attempt may still be right: no failures condition here.
  async consume(id, now) {
    const result = await db
      .prepare(
        'UPDATE mfa_challenges SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2'
      )
      .bind(id, now)
      .run()
    return result.meta.changes === 1
  },
})
