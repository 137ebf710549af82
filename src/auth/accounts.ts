/**
 * Account operations that combine passwords, throttling and sessions: creating an account,
 * checking credentials, renaming, changing a password and deleting an account, each with its
 * writes ordered so that a failure half-way leaves nothing usable behind.
 */
import { bestEffort } from '../best-effort'
import { isoNow, nowSeconds } from '../clock'
import type { AppConfig } from '../config'
import type { Bindings } from '../env'
import { DependencyUnavailable, UniqueViolation } from '../store/guard'
import { releaseAttempt, reserveAttempt } from '../store/login-failures'
import type { Lockout, Reservation } from '../store/login-failures'
import { liveRefreshHashes } from '../store/sessions'
import {
  deleteUserCascade,
  emailIsTaken,
  findUserByEmail,
  findUserById,
  insertUser,
  replacePasswordEndingOtherSessions,
  replacePasswordHash,
  updateNickname,
} from '../store/users'
import type { PublicUser, UserRow } from '../store/users'
import {
  AccountChangedMeanwhile,
  EmailNotVerified,
  EmailTaken,
  InvalidCredentials,
  LoginThrottled,
  SessionEnded,
  WrongPassword,
} from './errors'
import { checkLoginPassword, hashPassword, verifyPassword } from './password'
import { forgetRefreshTokens, startSession } from './sessions'
import type { IssuedTokens } from './sessions'

const throttled = (lockout: Lockout): LoginThrottled => new LoginThrottled(lockout.retryAfter)

/**
 * Re-hashes a correct password made under an older policy and returns the hash now stored. The
 * write only lands if the row still holds the hash just checked (a concurrent password change
 * wins), and a failure is logged, not thrown: the old hash still works, so the upgrade simply
 * waits for the next login.
 */
const upgradePasswordHash = async (
  env: Bindings,
  config: AppConfig,
  user: UserRow,
  password: string
): Promise<string> => {
  let stored = user.password_hash
  await bestEffort('password rehash failed', async () => {
    const newHash = await hashPassword(password, config.passwordPolicy)
    if (await replacePasswordHash(env.DB, user.id, user.password_hash, newHash, isoNow())) {
      stored = newHash
    }
  })
  return stored
}

/**
 * Registers a user and opens their first session in the same transaction. Two registrations
 * racing past the email check are decided by the UNIQUE index: the loser gets email_taken.
 */
export const createAccount = async (
  env: Bindings,
  config: AppConfig,
  account: { email: string; password: string; nickname?: string; userAgent: string | null }
): Promise<{ user: PublicUser; tokens: IssuedTokens | null }> => {
  // A server that cannot sign refuses before its first read, as it would before any write.
  config.signer.check()
  if (await emailIsTaken(env.DB, account.email)) throw new EmailTaken()
  const now = isoNow()
  const user = {
    id: crypto.randomUUID(),
    email: account.email,
    nickname: account.nickname ?? null,
    password_hash: await hashPassword(account.password, config.passwordPolicy),
    created_at: now,
    email_verified_at: null,
  }
  try {
    if (config.requireEmailVerification) {
      // No session until the address is proven (REQUIRE_EMAIL_VERIFICATION): the account only.
      await insertUser(env.DB, user)
      return { user, tokens: null }
    }
    const tokens = await startSession(
      env,
      config,
      { userId: user.id, userAgent: account.userAgent },
      { newUser: user }
    )
    return { user, tokens }
  } catch (error) {
    if (error instanceof UniqueViolation) throw new EmailTaken()
    throw error
  }
}

/**
 * A checked login: the user, the hash the password matched (the session insert is conditional on
 * it) and the throttle's place, given back in the session's transaction.
 */
export interface Authenticated {
  user: UserRow
  passwordHash: string
  reservation: Reservation
}

/**
 * Checks an email and password. The attempt takes its place in the per-account count before any
 * hashing (a full count is LoginThrottled at once); an unknown email does the same work and gets
 * the same answer as a wrong password.
 */
export const authenticate = async (
  env: Bindings,
  config: AppConfig,
  email: string,
  password: string
): Promise<Authenticated> => {
  const now = nowSeconds()
  // Both at once: one D1 round trip of waiting, and the same work whether or not the account exists.
  const [{ reservation, lockout }, user] = await Promise.all([
    reserveAttempt(env.DB, email, now),
    findUserByEmail(env.DB, email),
  ])
  if (lockout) throw throttled(lockout)
  const check = await checkLoginPassword(
    password,
    user?.password_hash ?? null,
    config.passwordPolicy
  )
  if (!user || !check.valid) throw new InvalidCredentials()
  let passwordHash = user.password_hash
  if (check.needsRehash) passwordHash = await upgradePasswordHash(env, config, user, password)
  // Only after the password check, so that a guesser learns nothing from it; the right password
  // gives its place in the throttle back all the same.
  if (config.requireEmailVerification && user.email_verified_at === null) {
    await releaseAttempt(env.DB, reservation)
    throw new EmailNotVerified()
  }
  return { user, passwordHash, reservation }
}

/**
 * Login: the credentials, then a new session. A server that cannot sign refuses first, so that a
 * misconfiguration never counts failed logins.
 */
export const signIn = async (
  env: Bindings,
  config: AppConfig,
  credentials: { email: string; password: string; userAgent: string | null }
): Promise<{ user: PublicUser; tokens: IssuedTokens }> => {
  config.signer.check()
  const { user, passwordHash, reservation } = await authenticate(
    env,
    config,
    credentials.email,
    credentials.password
  )
  try {
    const tokens = await startSession(
      env,
      config,
      { userId: user.id, userAgent: credentials.userAgent },
      { login: { passwordHash, reservation } }
    )
    return { user, tokens }
  } catch (error) {
    // A right password must not count as a failure because KV is out, or retries lock the account.
    // Only KV: its write comes before the D1 batch that gives the place back, so that batch never
    // ran; a failed D1 batch may have landed, and giving the place back twice would free a guess.
    if (error instanceof DependencyUnavailable && error.dependency === 'KV') {
      await bestEffort('could not give back a login attempt', () =>
        releaseAttempt(env.DB, reservation)
      )
    }
    throw error
  }
}

/**
 * A signed-in user re-proving their password; the token itself is fine, so a wrong one is not a
 * 401. It counts against the same per-account limit as a login, and past it is LoginThrottled
 * without hashing.
 */
const requirePassword = async (
  env: Bindings,
  userId: string,
  password: string
): Promise<UserRow> => {
  const user = await findUserById(env.DB, userId)
  if (!user) throw new SessionEnded()
  const { reservation, lockout } = await reserveAttempt(env.DB, user.email, nowSeconds())
  if (lockout) throw throttled(lockout)
  const check = await verifyPassword(password, user.password_hash)
  if (!check.valid) {
    throw new WrongPassword()
  }
  await releaseAttempt(env.DB, reservation)
  return user
}

/** Sets the user's nickname; null when the user has gone meanwhile. */
export const renameUser = (
  env: Bindings,
  userId: string,
  nickname: string | null
): Promise<UserRow | null> => updateNickname(env.DB, userId, nickname, isoNow())

/** A rehash at login can swap the stored hash under a change; one retry re-checks against it. */
const PASSWORD_CHANGE_ATTEMPTS = 2

/**
 * Sets a new password and, in the same transaction, ends every session but the current one. The
 * swap only lands on the hash the current password was checked against; if another write got
 * there first, the check runs again on the new hash: a rehash of the same password passes, a
 * concurrent change to another password makes `current_password` wrong (403).
 */
export const changePassword = async (
  env: Bindings,
  config: AppConfig,
  subject: { userId: string; sessionId: string },
  currentPassword: string,
  newPassword: string
): Promise<void> => {
  let user = await requirePassword(env, subject.userId, currentPassword)
  const newHash = await hashPassword(newPassword, config.passwordPolicy)
  for (let attempt = 1; attempt <= PASSWORD_CHANGE_ATTEMPTS; attempt++) {
    if (attempt > 1) user = await requirePassword(env, subject.userId, currentPassword)
    const { landed, endedRefreshHashes } = await replacePasswordEndingOtherSessions(env.DB, {
      userId: user.id,
      sessionId: subject.sessionId,
      previousHash: user.password_hash,
      newHash,
      updatedAt: isoNow(),
      now: nowSeconds(),
    })
    if (landed) {
      await forgetRefreshTokens(env, endedRefreshHashes)
      return
    }
  }
  throw new AccountChangedMeanwhile()
}

/** Removes the user with their notes and sessions, then the live refresh records in KV. */
export const deleteAccount = async (
  env: Bindings,
  userId: string,
  password: string
): Promise<void> => {
  const user = await requirePassword(env, userId, password)
  const tokenHashes = await liveRefreshHashes(env.DB, user.id)
  await deleteUserCascade(env.DB, user.id)
  await forgetRefreshTokens(env, tokenHashes)
}
