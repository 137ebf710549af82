/**
 * The store interfaces the domain is written against, one per aggregate, each operation with the
 * guarantee it gives. The D1 and KV adapters (src/adapters/) implement them; the conformance
 * suite (src/adapters/testing/) holds every adapter of a port to the same guarantees. Every
 * failure of the storage behind a port is DependencyUnavailable (a 503), never a partial write.
 */

/** What storage a failure came from. */
export type Dependency = 'D1' | 'KV'

export class DependencyUnavailable extends Error {
  readonly dependency: Dependency

  constructor(dependency: Dependency, cause: unknown) {
    super(`${dependency} is unavailable`, { cause })
    this.name = 'DependencyUnavailable'
    this.dependency = dependency
  }
}

/** A write that collided with a UNIQUE constraint: a domain outcome, not an outage. */
export class UniqueViolation extends Error {
  constructor(cause: unknown) {
    super('unique constraint violated', { cause })
    this.name = 'UniqueViolation'
  }
}

export interface UserRow {
  id: string
  email: string
  nickname: string | null
  password_hash: string
  created_at: string
  updated_at: string
  /** When the address was proven (a verification or reset link was used); null until then. */
  email_verified_at: string | null
  /** Bumped by every change of how the account signs in; a session insert checks it. */
  credential_version: number
  /** JSON object of the second factors the account has ({"totp":true,"passkeys":2}), kept by each. */
  mfa: string
}

export type NewUser = Omit<
  UserRow,
  'updated_at' | 'email_verified_at' | 'credential_version' | 'mfa'
>

/** What a client may see of a user (`mfa` absent: none yet, as for a new account). */
export type PublicUser = Pick<
  UserRow,
  'id' | 'email' | 'nickname' | 'created_at' | 'email_verified_at'
> &
  Partial<Pick<UserRow, 'mfa'>>

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
  /** JSON array of RFC 8176 method references, in the order proved. */
  amr: string
  /** When the user last proved who they are (seconds); null for sessions older than the column. */
  auth_time: number | null
}

export type NewSession = Pick<
  SessionRow,
  | 'id'
  | 'user_id'
  | 'refresh_hash'
  | 'user_agent'
  | 'created_at'
  | 'expires_at'
  | 'amr'
  | 'auth_time'
>

/** A session with its owner's public profile: a refresh answers with both. */
export type SessionWithOwner = SessionRow & { owner: PublicUser }

/** The hot-path view of a session: its liveness, how it was proven, and its owner's profile. */
export type SessionState = Pick<
  SessionRow,
  'user_id' | 'expires_at' | 'revoked_at' | 'amr' | 'auth_time'
> & { owner: PublicUser }

/** A session proven again (POST /auth/reauthenticate): a new chain head and a new proof. */
export interface Reproof {
  id: string
  expectedHash: string
  nextHash: string
  amr: string
  authTime: number
  expiresAt: number
}

/** Which of a user's live sessions to end. */
export type SessionScope = { only: string } | { except: string } | 'all'

export interface Rotation {
  id: string
  expectedHash: string
  nextHash: string
  successorBox: string
  now: number
  expiresAt: number
}

/** A place in the login failure count, given back when the credential was right. */
export interface Reservation {
  /** Whose count: an account's email, or a known device's `device:<token hash>`. */
  key: string
  windowStartedAt: number
}

/** A device that signed in: its token's hash, bound to an account at a credential version. */
export interface DeviceRow {
  token_hash: string
  user_id: string
  /** The account's credential_version at issue: a password change or reset ends the device. */
  credential_version: number
  created_at: number
  expires_at: number
}

export interface Lockout {
  retryAfter: number
}

export interface FailureWindow {
  limit: number
  windowSeconds: number
}

export interface RefreshRecord {
  /** Session (chain) the token belongs to. */
  sid: string
  uid: string
  /** Expiry, seconds since the epoch. */
  exp: number
}

export type OneTimePurpose = 'password_reset' | 'email_verification'

export interface NewOneTimeToken {
  tokenHash: string
  purpose: OneTimePurpose
  userId: string
  email: string
  passwordFingerprint: string | null
  now: number
  expiresAt: number
}

export interface MessageBudget {
  limit: number
  windowSeconds: number
}

/** A live token with the account it belongs to, as it is now. */
export interface TokenHolder {
  userId: string
  email: string
  passwordHash: string
  passwordFingerprint: string | null
  /** When the address was first proven; null until a link was used. */
  emailVerifiedAt: string | null
}

export interface PasswordReset {
  tokenHash: string
  holder: TokenHolder
  newPasswordHash: string
  now: number
  nowIso: string
  /** The features' part of the owner taking the account back, run in the same transaction. */
  steps?: readonly DeletionStep[]
}

/** A registration that takes over an address whose account was never verified. */
export interface UnverifiedReplacement {
  id: string
  email: string
  nickname: string | null
  passwordHash: string
  now: number
  nowIso: string
  /** The features' removal of what the earlier registrant added (their accountReclaimed steps). */
  steps?: readonly DeletionStep[]
}

export interface OutboxMessage {
  to: string
  subject: string
  text: string
  html: string
  created_at: string
}

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

/** Sends mail (MAIL_TRANSPORT: Cloudflare's send_email, an HTTP API, or the local outbox). */
export interface Mailer {
  readonly transport: 'cloudflare' | 'http' | 'outbox'
  /** Rejects when the message was not accepted for delivery. */
  send(message: MailMessage): Promise<void>
}

/** A mailer with the page its links open (APP_URL). */
export type ConfiguredMailer = Mailer & { appUrl: string }

/** Every kind of security event an account can show (features record theirs too). */
export const SECURITY_EVENT_TYPES = [
  'login',
  'login_failed',
  'mfa_failed',
  'password_changed',
  'password_reset',
  'email_verified',
  'session_revoked',
  'refresh_reuse_detected',
  'mfa_enabled',
  'mfa_disabled',
  'passkey_added',
  'passkey_removed',
  'identity_linked',
  'identity_unlinked',
  'account_deleted',
] as const

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number]

export interface SecurityEventRow {
  /** Increases with every event written: the order of a user's list, and its cursor. */
  id: number
  user_id: string
  type: SecurityEventType
  /** How a `login` was proved ('pwd', 'otp', 'hwk', ...); null for other events. */
  method: string | null
  /** Seconds since the epoch. */
  created_at: number
  ip: string | null
  user_agent: string | null
  country: string | null
  session_id: string | null
}

export type NewSecurityEvent = Omit<SecurityEventRow, 'id'>

export interface PruneResult {
  sessions: number
  loginFailures: number
  oneTimeTokens: number
  outbox: number
  successorBoxes: number
  securityEvents: number
  devices: number
  mfaChallenges: number
}

/** What a password change did: whether the swap landed, and the heads of the chains it ended. */
export interface PasswordReplacement {
  landed: boolean
  endedRefreshHashes: string[]
}

export interface PasswordChange {
  userId: string
  sessionId: string
  previousHash: string
  newHash: string
  updatedAt: string
  now: number
}

/**
 * An adapter-specific step a feature adds to a user's deletion (for D1: statements run in the
 * deletion's transaction). Opaque to the domain.
 */
export type DeletionStep = unknown

export interface UserStore {
  findByEmail(email: string): Promise<UserRow | null>
  findById(id: string): Promise<UserRow | null>
  emailIsTaken(email: string): Promise<boolean>
  /** Throws UniqueViolation when the email is taken. */
  insert(user: NewUser): Promise<void>
  /**
   * Atomic: the user and their first session (and device), or none of them. UniqueViolation when
   * taken.
   */
  insertWithSession(user: NewUser, session: NewSession, device?: DeviceRow): Promise<void>
  /** Null when the user is gone. */
  rename(id: string, nickname: string | null, updatedAt: string): Promise<UserRow | null>
  /**
   * Compare-and-swap on the hash: lands only while the row holds `previousHash`. For a rehash of
   * the same password, so the credential version stays.
   */
  replacePasswordHash(
    id: string,
    previousHash: string,
    newHash: string,
    updatedAt: string
  ): Promise<boolean>
  /**
   * Atomic: swap the hash (compare-and-swap on `previousHash`), bump the credential version, and
   * end every other live session of the user, all only if the swap landed.
   */
  changePassword(change: PasswordChange): Promise<PasswordReplacement>
  /** Atomic: the user and everything of theirs, the features' steps included. */
  deleteCascade(id: string, steps: readonly DeletionStep[]): Promise<void>
  /**
   * Atomic, and only while the account is still unverified: a new password, nickname and creation
   * time, the credential version bumped (its devices end), every pending link used up (they still
   * count toward the message limit) and every session ended. Null when the address was verified
   * meanwhile.
   */
  replaceUnverified(replacement: UnverifiedReplacement): Promise<UserRow | null>
}

export interface SessionStore {
  /**
   * Inserts a session (and a new device, when given) only while the owner's credential version is
   * still `credentialVersion`, giving the throttle place back in the same transaction. False when
   * the version moved.
   */
  insert(
    session: NewSession,
    guard: { credentialVersion: number; release?: Reservation | null; device?: DeviceRow }
  ): Promise<boolean>
  /** Strong read (the primary) of a session and its owner. */
  find(id: string): Promise<SessionWithOwner | null>
  /**
   * The per-request check: one read. `replica` may read a lagging replica (SESSION_CHECK),
   * `primary` is strong.
   */
  check(id: string, consistency: 'primary' | 'replica'): Promise<SessionState | null>
  /** Compare-and-swap on the chain's head: of two racing rotations exactly one wins. */
  rotate(rotation: Rotation): Promise<boolean>
  /**
   * Compare-and-swap on the chain's head of a live session: the new head, amr and auth_time. The
   * old token is rotated away without a grace window. False when the head moved or it ended.
   */
  reprove(reproof: Reproof): Promise<boolean>
  /** Ends one session (refresh reuse); true when it was live. */
  revoke(id: string, now: number): Promise<boolean>
  /** Ends some of a user's live sessions; returns the heads of the ended chains. */
  revokeUserSessions(userId: string, scope: SessionScope, now: number): Promise<string[]>
  listLive(userId: string, now: number): Promise<SessionRow[]>
  liveRefreshHashes(userId: string): Promise<string[]>
}

/** Refresh-token hash -> session, for lookups only: revocation is decided in SessionStore. */
export interface RefreshIndex {
  /** Written once per token, expiring with it (at least 60 s). */
  put(tokenHash: string, record: RefreshRecord, now: number): Promise<void>
  /** Eventually consistent: a just-written record may be missing elsewhere for a while. */
  get(tokenHash: string): Promise<RefreshRecord | null>
  /** Best effort: a record whose session has ended is already useless. */
  delete(tokenHashes: string[]): Promise<void>
}

export interface OneTimeTokenStore {
  /** Atomic: inserts only while the account has budget left in the window; false when spent. */
  insertWithinBudget(token: NewOneTimeToken, budget: MessageBudget): Promise<boolean>
  findLive(tokenHash: string, purpose: OneTimePurpose, now: number): Promise<TokenHolder | null>
  /**
   * Atomic and single use: sets the password (bumping the credential version), uses the token,
   * ends every session and clears the failure count. Null when the token was not redeemed.
   */
  redeemPasswordReset(reset: PasswordReset): Promise<string[] | null>
  /** Atomic and single use; null when the token was not redeemed. */
  redeemEmailVerification(
    tokenHash: string,
    holder: TokenHolder,
    now: number,
    nowIso: string
  ): Promise<PublicUser | null>
}

export interface LoginThrottle {
  /** Atomic: at most `window.limit` places are ever handed out per key and window. */
  reserve(
    key: string,
    now: number
  ): Promise<{ reservation: Reservation; lockout: null } | { reservation: null; lockout: Lockout }>
  /** Gives a place back (a right password); never resets the count. */
  release(reservation: Reservation): Promise<void>
}

/** Device tokens, by hash; they are written with the session that hands them out. */
export interface DeviceStore {
  /** The stored device, whatever its state: the domain decides whether it still counts. */
  find(tokenHash: string): Promise<DeviceRow | null>
}

/** The state between a first and a second factor (an mfa_token, kept as its hash `id`). */
export interface MfaChallengeRow {
  id: string
  user_id: string
  /** JSON array: the first factor's RFC 8176 values. */
  amr: string
  credential_version: number
  failures: number
  created_at: number
  expires_at: number
}

export interface MfaChallengeStore {
  insert(challenge: Omit<MfaChallengeRow, 'failures'>): Promise<void>
  /** A challenge not used, not expired and with fewer than `maxFailures` answers taken. */
  findLive(id: string, now: number, maxFailures: number): Promise<MfaChallengeRow | null>
  /**
   * Atomic: takes one of a live challenge's `maxFailures` answers (failures + 1) before the answer
   * is checked, so that however many race, no more are ever checked. The row after, or null.
   */
  takeAttempt(id: string, now: number, maxFailures: number): Promise<MfaChallengeRow | null>
  /** Atomic and single use: of two racing consumers exactly one gets true. */
  consume(id: string, now: number): Promise<boolean>
}

export interface OutboxStore {
  insert(message: OutboxMessage): Promise<void>
  /** Newest first. */
  list(): Promise<OutboxMessage[]>
}

export interface SecurityEventStore {
  insert(event: NewSecurityEvent): Promise<void>
  /**
   * Newest first: at most `limit` of the user's events, only those older (smaller id) than
   * `before` when it is given. One indexed range read.
   */
  listByUser(userId: string, before: number | null, limit: number): Promise<SecurityEventRow[]>
}

export interface Maintenance {
  pruneStaleRows(now: number): Promise<PruneResult>
}

export interface AuthPorts {
  /**
   * A new account's id. The storage picks where the account lives, and the id, like every id and
   * token issued from it (shardTag), says where: a hot path finds its one shard from it.
   */
  newUserId?: (email: string) => string
  users: UserStore
  sessions: SessionStore
  refreshIndex: RefreshIndex
  oneTimeTokens: OneTimeTokenStore
  loginThrottle: LoginThrottle
  devices: DeviceStore
  mfaChallenges: MfaChallengeStore
  outbox: OutboxStore
  events: SecurityEventStore
  maintenance: Maintenance
  /** The guarded D1 binding, for the adapters of features' own stores. */
  d1: D1Database
  /**
   * Each shard's database on its own (guarded; `[d1]` when absent): for the one read that knows no
   * shard, an identity provider's subject, which is looked for on every shard.
   */
  d1Shards?: D1Database[]
}
