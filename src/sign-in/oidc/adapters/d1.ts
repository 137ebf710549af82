/**
 * The oidc feature's store in D1: pending sign-ins, login codes and identities. Single use of a
 * state or a code is one conditional UPDATE; account creation and the identity are one batch.
 */
import type { NewUser, UserRow } from '../../../ports'

export interface NewState {
  stateHash: string
  provider: string
  browserHash: string
  returnTo: string
  link: { userId: string; credentialVersion: number } | null
  now: number
  expiresAt: number
}

export interface TakenState {
  return_to: string
  link_user_id: string | null
  link_credential_version: number | null
}

export interface NewIdentity {
  id: string
  userId: string
  provider: string
  subject: string
  email: string | null
  createdAt: string
}

export interface IdentityRow {
  id: string
  provider: string
  email: string | null
  created_at: string
}

export interface LoginGrant {
  user_id: string
  auth_time: number
  credential_version: number
}

/** The account's address is verified now: an identity linked while it is not dies at a reset. */
const ADDRESS_VERIFIED = '(SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?2)'

const insertIdentityStatement = (
  db: D1Database,
  identity: NewIdentity,
  guard: string,
  ...guardValues: unknown[]
) =>
  db
    .prepare(
      `INSERT INTO oidc_identities (id, user_id, provider, subject, email, address_verified, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ${ADDRESS_VERIFIED}, ?6 WHERE ${guard} RETURNING id`
    )
    .bind(
      identity.id,
      identity.userId,
      identity.provider,
      identity.subject,
      identity.email,
      identity.createdAt,
      ...guardValues
    )

/**
 * `shards`: every shard's database on its own (docs/scaling.md). An identity lives on its
 * account's shard, and nothing in (provider, subject) names it: the one read by it asks each.
 */
export const d1OidcStore = (db: D1Database, shards: D1Database[] = [db]) => ({
  async insertState(state: NewState): Promise<void> {
    await db.batch([
      // Expired states go with each new one (indexed by expiry), on the shard it is written to.
      db.prepare('DELETE FROM oidc_states WHERE expires_at <= ?1').bind(state.now),
      db
        .prepare(
          `INSERT INTO oidc_states (state_hash, provider, browser_hash, return_to, link_user_id, link_credential_version, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
        )
        .bind(
          state.stateHash,
          state.provider,
          state.browserHash,
          state.returnTo,
          state.link?.userId ?? null,
          state.link?.credentialVersion ?? null,
          state.now,
          state.expiresAt
        ),
    ])
  },

  /** Uses the state once, and only from the browser it was started in; null otherwise. */
  takeState: (stateHash: string, browserHash: string, provider: string, now: number) =>
    db
      .prepare(
        `UPDATE oidc_states SET used_at = ?4 WHERE state_hash = ?1 AND browser_hash = ?2 AND provider = ?3 AND used_at IS NULL AND expires_at > ?4 RETURNING return_to, link_user_id, link_credential_version`
      )
      .bind(stateHash, browserHash, provider, now)
      .first<TakenState>(),

  /**
   * The account an identity belongs to, as it is now; null for an unknown identity. Each shard's
   * UNIQUE index holds one; should two shards each hold one (two links that raced), the identity
   * is ambiguous and signs in neither: 'ambiguous'.
   */
  async accountOfIdentity(
    provider: string,
    subject: string
  ): Promise<UserRow | 'ambiguous' | null> {
    const found = (
      await Promise.all(
        shards.map((shard) =>
          shard
            .prepare(
              'SELECT u.* FROM oidc_identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ?1 AND i.subject = ?2'
            )
            .bind(provider, subject)
            .first<UserRow>()
        )
      )
    ).filter((row) => row !== null)
    if (found.length > 1) return 'ambiguous'
    return found[0] ?? null
  },

  /** Links to an existing account; only while its credentials are as they were checked. */
  async linkIdentity(identity: NewIdentity, credentialVersion: number): Promise<boolean> {
    const row = await insertIdentityStatement(
      db,
      identity,
      'EXISTS (SELECT 1 FROM users WHERE id = ?2 AND credential_version = ?7)',
      credentialVersion
    ).first()
    return row !== null
  },

  /** A new account (no password) with its identity: both or neither. UniqueViolation if taken. */
  async createAccount(user: NewUser, verifiedAt: string | null, identity: NewIdentity) {
    await db.batch([
      db
        .prepare(
          `INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at, email_verified_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)`
        )
        .bind(user.id, user.email, user.nickname, user.password_hash, user.created_at, verifiedAt),
      insertIdentityStatement(db, identity, '1'),
    ])
  },

  async insertLoginCode(
    codeHash: string,
    grant: LoginGrant,
    browserHash: string,
    expiresAt: number,
    now: number
  ): Promise<void> {
    await db.batch([
      // Expired codes go with each new one (indexed by expiry), on the account's shard.
      db.prepare('DELETE FROM oidc_login_codes WHERE expires_at <= ?1').bind(now),
      db
        .prepare(
          `INSERT INTO oidc_login_codes (code_hash, user_id, auth_time, credential_version, browser_hash, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`
        )
        .bind(
          codeHash,
          grant.user_id,
          grant.auth_time,
          grant.credential_version,
          browserHash,
          expiresAt
        ),
    ])
  },

  /** Uses the code once, in the browser it was issued to; null when unknown, used or expired. */
  takeLoginCode: (codeHash: string, browserHash: string, now: number) =>
    db
      .prepare(
        `UPDATE oidc_login_codes SET used_at = ?3 WHERE code_hash = ?1 AND browser_hash = ?2 AND used_at IS NULL AND expires_at > ?3 RETURNING user_id, auth_time, credential_version`
      )
      .bind(codeHash, browserHash, now)
      .first<LoginGrant>(),

  listIdentities: async (userId: string): Promise<IdentityRow[]> =>
    (
      await db
        .prepare(
          `SELECT id, provider, email, created_at FROM oidc_identities WHERE user_id = ?1 ORDER BY created_at, id`
        )
        .bind(userId)
        .all<IdentityRow>()
    ).results,

  /**
   * Removes the identity unless it is the account's last way to sign in (no password and no
   * other identity), decided in the statement itself. 'gone' when the account has no such
   * identity.
   */
  async unlinkIdentity(userId: string, id: string): Promise<'removed' | 'last' | 'gone'> {
    const [removed, exists] = await db.batch([
      db
        .prepare(
          `DELETE FROM oidc_identities WHERE id = ?1 AND user_id = ?2 AND ((SELECT password_hash FROM users WHERE id = ?2) != '' OR (SELECT COUNT(*) FROM oidc_identities WHERE user_id = ?2) > 1) RETURNING id`
        )
        .bind(id, userId),
      db.prepare('SELECT 1 FROM oidc_identities WHERE id = ?1 AND user_id = ?2').bind(id, userId),
    ])
    if ((removed?.results ?? []).length === 1) return 'removed'
    return (exists?.results ?? []).length === 1 ? 'last' : 'gone'
  },

  /**
   * Statements of the transaction in which the address's owner takes the account back: the
   * identities linked while the address was unverified, and pending links. (A pending login code
   * needs nothing: the reclaim moves the credential version, so its exchange starts no session.)
   */
  reclaimSteps: (userId: string) => [
    db
      .prepare('DELETE FROM oidc_identities WHERE user_id = ?1 AND address_verified = 0')
      .bind(userId),
    db.prepare('DELETE FROM oidc_states WHERE link_user_id = ?1').bind(userId),
  ],

  /** Statements of a user's deletion. */
  deletionSteps: (userId: string) => [
    db.prepare('DELETE FROM oidc_login_codes WHERE user_id = ?1').bind(userId),
    db.prepare('DELETE FROM oidc_states WHERE link_user_id = ?1').bind(userId),
    db.prepare('DELETE FROM oidc_identities WHERE user_id = ?1').bind(userId),
  ],
})

export type OidcStore = ReturnType<typeof d1OidcStore>
