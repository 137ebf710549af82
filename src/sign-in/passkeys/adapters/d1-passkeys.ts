/** The passkey store on D1: single use and the counter rule are conditional writes. */
import type { UserRow } from '../../../ports'
import type { PasskeyRow, PasskeyStore } from '../store'

/** users.mfa's passkey count, as the user object shows it (users.mfa belongs to the core). */
const setCount = (offset = '') =>
  `mfa = json_set(mfa, '$.passkeys', (SELECT count(*) FROM passkeys WHERE user_id = ?1)${offset})`

export const d1PasskeyStore = (db: D1Database): PasskeyStore => ({
  async issueChallenge({ hash, purpose, subject, expiresAt, now }) {
    await db.batch([
      // Expired challenges go with each new one (indexed by expiry): the table stays small.
      db.prepare('DELETE FROM passkey_challenges WHERE expires_at <= ?1').bind(now),
      db
        .prepare('INSERT INTO passkey_challenges VALUES (?1, ?2, ?3, ?4, NULL)')
        .bind(hash, purpose, subject, expiresAt),
    ])
  },

  async redeemChallenge(hash, purpose, subject, now) {
    const row = await db
      .prepare(
        `UPDATE passkey_challenges SET used_at = ?4
          WHERE challenge_hash = ?1 AND purpose = ?2 AND subject = ?3
            AND used_at IS NULL AND expires_at > ?4 RETURNING 1`
      )
      .bind(hash, purpose, subject, now)
      .first()
    return row !== null
  },

  async insert(p) {
    // The user object's count moves in the same transaction as the row.
    await db.batch([
      db
        .prepare(
          `INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count, name,
           created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
        )
        .bind(
          p.id,
          p.user_id,
          p.credential_id,
          p.public_key,
          p.algorithm,
          p.sign_count,
          p.name,
          p.created_at
        ),
      db.prepare(`UPDATE users SET ${setCount()} WHERE id = ?1`).bind(p.user_id),
    ])
  },

  async findByCredentialId(credentialId, ownerId) {
    // One read: the owner (and their credential version) as of the passkey's row. The owner's id
    // is bound first: with accounts sharded, it names the shard (src/adapters/d1/shards.ts).
    const row = await db
      .prepare(
        `SELECT p.id AS passkey_id, p.public_key, p.algorithm, u.*
           FROM passkeys p JOIN users u ON u.id = p.user_id
          WHERE p.credential_id = ?2 AND (?1 IS NULL OR p.user_id = ?1)`
      )
      .bind(ownerId, credentialId)
      .first<UserRow & { passkey_id: string; public_key: string; algorithm: number }>()
    return (
      row && {
        passkey: { id: row.passkey_id, public_key: row.public_key, algorithm: row.algorithm },
        owner: row,
      }
    )
  },

  async listByUser(userId) {
    const { results } = await db
      .prepare('SELECT * FROM passkeys WHERE user_id = ?1 ORDER BY created_at, id')
      .bind(userId)
      .all<PasskeyRow>()
    return results
  },

  async recordUse(id, counter, nowIso) {
    const row = await db
      .prepare(
        `UPDATE passkeys SET sign_count = MAX(sign_count, ?2), last_used_at = ?3
          WHERE id = ?1 AND (?2 = 0 OR sign_count = 0 OR ?2 > sign_count) RETURNING 1`
      )
      .bind(id, counter, nowIso)
      .first()
    return row !== null
  },

  async delete(userId, id) {
    // One transaction: a sign-in that read the passkey before it went starts no session.
    const [, deleted] = await db.batch([
      db
        .prepare(
          `UPDATE users SET credential_version = credential_version + 1, ${setCount(' - 1')}
            WHERE id = ?1 AND EXISTS (SELECT 1 FROM passkeys WHERE id = ?2 AND user_id = ?1)`
        )
        .bind(userId, id),
      db
        .prepare('DELETE FROM passkeys WHERE id = ?2 AND user_id = ?1 RETURNING 1')
        .bind(userId, id),
    ])
    return deleted.results.length > 0
  },

  deletionStep: (userId) => db.prepare('DELETE FROM passkeys WHERE user_id = ?1').bind(userId),
})
