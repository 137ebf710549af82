/**
 * Account operations that combine passwords, throttling and sessions: creating an account,
 * checking credentials, renaming, changing a password and deleting an account, each with its
 * writes ordered so that a failure half-way leaves nothing usable behind.
 */
import { bestEffort } from '../best-effort'
import { isoNow, nowSeconds } from '../clock'
import { DependencyUnavailable, UniqueViolation } from '../ports'
import type { Lockout, PublicUser, UserRow } from '../ports'
import type { Core } from './core'
import { deviceThrottleKey, deviceTokenHash, isDeviceOf } from './devices'
import { isMailSafe } from './email-address'
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
import { forgetRefreshTokens, startSession, startSessionForNewUser } from './sessions'
import type { IssuedTokens, SignInMeta, SignInOutcome, VerifiedSignIn } from './sign-in'

const throttled = (lockout: Lockout): LoginThrottled => new LoginThrottled(lockout.retryAfter)

/**
 * Re-hashes a correct password made under an older policy and returns the hash now stored. The
 * write only lands if the row still holds the hash just checked (a concurrent password change
 * wins), and a failure is logged, not thrown: the old hash still works, so the upgrade simply
 * waits for the next login.
 */
const upgradePasswordHash = async (core: Core, user: UserRow, password: string): Promise<void> => {
  await bestEffort('password rehash failed', async () => {
    const newHash = await hashPassword(password, core.options.passwordPolicy)
    await core.ports.users.replacePasswordHash(user.id, user.password_hash, newHash, isoNow())
  })
}

/**
 * With REQUIRE_EMAIL_VERIFICATION, an address is not held by whoever registered it without reading
 * its mail: a new registration replaces an account that was never verified (its password, its
 * pending links, its sessions) and answers as for a new one. Null when the address is verified.
 */
const replaceUnverifiedAccount = async (
  core: Core,
  existing: UserRow,
  account: { password: string; nickname?: string }
): Promise<PublicUser | null> => {
  if (existing.email_verified_at !== null) return null
  // The address was never proven: everything the features hold for the account goes with it.
  const parts = core.hooks.accountReclaimed.map((reclaim) => reclaim(existing.id, null))
  const replaced = await core.ports.users.replaceUnverified({
    id: existing.id,
    email: existing.email,
    nickname: account.nickname ?? null,
    passwordHash: await hashPassword(account.password, core.options.passwordPolicy),
    now: nowSeconds(),
    nowIso: isoNow(),
    steps: parts.flatMap((part) => part.steps ?? []),
  })
  for (const part of parts) {
    if (part.after) await bestEffort('cleanup after replacing an account failed', part.after)
  }
  return replaced
}

/**
 * Registers a user and opens their first session in the same transaction. Two registrations
 * racing past the email check are decided by the UNIQUE index: the loser gets email_taken.
 */
export const createAccount = async (
  core: Core,
  account: { email: string; password: string; nickname?: string },
  meta: SignInMeta
): Promise<{ user: PublicUser; tokens: IssuedTokens | null }> => {
  const { options, ports } = core
  // A server that cannot sign refuses before its first read, as it would before any write.
  options.signer.check()
  if (options.requireEmailVerification) {
    const existing = await ports.users.findByEmail(account.email)
    if (existing) {
      const replaced = await replaceUnverifiedAccount(core, existing, account)
      if (!replaced) throw new EmailTaken()
      return { user: replaced, tokens: null }
    }
  } else if (await ports.users.emailIsTaken(account.email)) throw new EmailTaken()
  const now = isoNow()
  const user = {
    id: ports.newUserId?.(account.email) ?? crypto.randomUUID(),
    email: account.email,
    nickname: account.nickname ?? null,
    password_hash: await hashPassword(account.password, options.passwordPolicy),
    created_at: now,
    email_verified_at: null,
  }
  try {
    if (options.requireEmailVerification) {
      // No session until the address is proven (REQUIRE_EMAIL_VERIFICATION): the account only.
      await ports.users.insert(user)
      return { user, tokens: null }
    }
    const tokens = await startSessionForNewUser(core, user, meta, {
      amr: ['pwd'],
      authTime: nowSeconds(),
    })
    return { user, tokens }
  } catch (error) {
    if (error instanceof UniqueViolation) throw new EmailTaken()
    throw error
  }
}

/**
 * The account, and the attempt's place in a failure count: the account's shared one, or, when the
 * client presents a valid device token of that account, the device's own. Without a device token
 * both reads go at once (one D1 round trip of waiting); with one, the count is chosen after the
 * reads. Either way the same work whether or not the account exists.
 */
const reservePlace = async (
  core: Core,
  email: string,
  deviceToken: string | undefined,
  now: number
) => {
  const { ports } = core
  // An address that mail may not go to is nobody's (register refuses it): the same work and
  // answer as any unknown email, even for an account stored before the rule.
  const findUser = () => (isMailSafe(email) ? ports.users.findByEmail(email) : null)
  const deviceHash = deviceTokenHash(deviceToken)
  if (!deviceHash) {
    const [place, user] = await Promise.all([ports.loginThrottle.reserve(email, now), findUser()])
    return { ...place, user, knownDevice: false }
  }
  const hash = await deviceHash
  const [user, device] = await Promise.all([findUser(), ports.devices.find(hash)])
  const knownDevice = isDeviceOf(device, user, now)
  const place = await ports.loginThrottle.reserve(
    knownDevice ? deviceThrottleKey(hash) : email,
    now
  )
  return { ...place, user, knownDevice }
}

/**
 * Checks an email and password: the password method's half of the sign-in seam. The attempt takes
 * its place in a failure count before any hashing (a full count is LoginThrottled at once); an
 * unknown email does the same work and gets the same answer as a wrong password.
 */
export const checkPassword = async (
  core: Core,
  email: string,
  password: string,
  deviceToken?: string
): Promise<{ user: UserRow; signIn: VerifiedSignIn }> => {
  const { options, ports } = core
  const now = nowSeconds()
  const { user, reservation, lockout, knownDevice } = await reservePlace(
    core,
    email,
    deviceToken,
    now
  )
  if (lockout) throw throttled(lockout)
  const check = await checkLoginPassword(
    password,
    user?.password_hash ?? null,
    options.passwordPolicy
  )
  if (!user || !check.valid) throw new InvalidCredentials(undefined, user?.id)
  // The same password under a newer policy: the credential version stays, so the session below
  // still lands however the rehash went.
  if (check.needsRehash) await upgradePasswordHash(core, user, password)
  // Only after the password check, so that a guesser learns nothing from it; the right password
  // gives its place in the throttle back all the same.
  if (options.requireEmailVerification && user.email_verified_at === null) {
    await ports.loginThrottle.release(reservation)
    throw new EmailNotVerified()
  }
  return {
    user,
    signIn: {
      userId: user.id,
      amr: ['pwd'],
      authTime: now,
      credentialVersion: user.credential_version,
      reservation,
      knownDevice,
    },
  }
}

/**
 * A first factor's sign-in: the features' gates may ask for a second factor (no session, and the
 * throttle place is given back: the credential was right); otherwise the session starts.
 */
export const completeSignIn = async (
  core: Core,
  signIn: VerifiedSignIn,
  user: UserRow,
  meta: SignInMeta
): Promise<SignInOutcome> => {
  for (const gate of core.hooks.secondFactorGates) {
    const challenge = await gate(signIn, user)
    if (challenge) {
      if (signIn.reservation) await core.ports.loginThrottle.release(signIn.reservation)
      return { kind: 'second_factor', challenge }
    }
  }
  try {
    return { kind: 'session', user, tokens: await startSession(core, signIn, meta) }
  } catch (error) {
    // A right password must not count as a failure because KV is out, or retries lock the account.
    // Only KV: its write comes before the D1 batch that gives the place back, so that batch never
    // ran; a failed D1 batch may have landed, and giving the place back twice would free a guess.
    const reservation = signIn.reservation
    if (reservation && error instanceof DependencyUnavailable && error.dependency === 'KV') {
      await bestEffort('could not give back a login attempt', () =>
        core.ports.loginThrottle.release(reservation)
      )
    }
    throw error
  }
}

/**
 * Login with email and password. A server that cannot sign refuses first, so that a
 * misconfiguration never counts failed logins.
 */
export const passwordLogin = async (
  core: Core,
  credentials: { email: string; password: string },
  meta: SignInMeta
): Promise<SignInOutcome> => {
  core.options.signer.check()
  const { user, signIn } = await checkPassword(
    core,
    credentials.email,
    credentials.password,
    meta.deviceToken
  )
  return completeSignIn(core, signIn, user, meta)
}

/**
 * A signed-in user re-proving their password; the token itself is fine, so a wrong one is not a
 * 401. It counts against the same per-account limit as a login, and past it is LoginThrottled
 * without hashing.
 */
export const requirePassword = async (
  core: Core,
  userId: string,
  password: string
): Promise<UserRow> => {
  const user = await core.ports.users.findById(userId)
  if (!user) throw new SessionEnded()
  const { reservation, lockout } = await core.ports.loginThrottle.reserve(user.email, nowSeconds())
  if (lockout) throw throttled(lockout)
  const check = await verifyPassword(password, user.password_hash)
  if (!check.valid) {
    throw new WrongPassword()
  }
  await core.ports.loginThrottle.release(reservation)
  return user
}

/** Sets the user's nickname; null when the user has gone meanwhile. */
export const renameUser = (
  core: Core,
  userId: string,
  nickname: string | null
): Promise<UserRow | null> => core.ports.users.rename(userId, nickname, isoNow())

/** A rehash at login can swap the stored hash under a change; one retry re-checks against it. */
const PASSWORD_CHANGE_ATTEMPTS = 2

/**
 * Sets a new password and, in the same transaction, ends every session but the current one. The
 * swap only lands on the hash the current password was checked against; if another write got
 * there first, the check runs again on the new hash: a rehash of the same password passes, a
 * concurrent change to another password makes `current_password` wrong (403).
 */
export const changePassword = async (
  core: Core,
  subject: { userId: string; sessionId: string },
  currentPassword: string,
  newPassword: string
): Promise<void> => {
  let user = await requirePassword(core, subject.userId, currentPassword)
  const newHash = await hashPassword(newPassword, core.options.passwordPolicy)
  for (let attempt = 1; attempt <= PASSWORD_CHANGE_ATTEMPTS; attempt++) {
    if (attempt > 1) user = await requirePassword(core, subject.userId, currentPassword)
    const { landed, endedRefreshHashes } = await core.ports.users.changePassword({
      userId: user.id,
      sessionId: subject.sessionId,
      previousHash: user.password_hash,
      newHash,
      updatedAt: isoNow(),
      now: nowSeconds(),
    })
    if (landed) {
      await forgetRefreshTokens(core, endedRefreshHashes)
      return
    }
  }
  throw new AccountChangedMeanwhile()
}

/**
 * Removes the user with everything of theirs (the features' rows included, in the same
 * transaction), then the live refresh records in KV and whatever the features tidy afterwards.
 */
export const deleteAccount = async (
  core: Core,
  userId: string,
  password: string
): Promise<void> => {
  const user = await requirePassword(core, userId, password)
  const tokenHashes = await core.ports.sessions.liveRefreshHashes(user.id)
  const parts = core.hooks.userDeleted.map((part) => part(user.id))
  await core.ports.users.deleteCascade(
    user.id,
    parts.flatMap((part) => part.steps ?? [])
  )
  await forgetRefreshTokens(core, tokenHashes)
  for (const part of parts) {
    if (part.after) await bestEffort('cleanup after an account deletion failed', part.after)
  }
}
