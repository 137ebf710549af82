/**
 * Account recovery and email verification: one-time links sent by mail, and their redemption.
 * Tokens are 256 random bits, kept only as a SHA-256 hash, and single use is decided by D1.
 */
import { bestEffort } from '../best-effort'
import { isoNow, nowSeconds } from '../clock'
import { composeAccountMessage } from '../mail/message'
import type { AccountLinkPurpose } from '../mail/message'
import type { ConfiguredMailer, PublicUser, TokenHolder } from '../ports'
import type { Core } from './core'
import {
  constantTimeEqualText,
  isOpaqueToken,
  newOpaqueToken,
  sha256Base64Url,
  shardTag,
  tokenHash as hashOf,
} from './encoding'
import { InvalidOneTimeToken } from './errors'
import { hashPassword } from './password'
import { forgetRefreshTokens } from './sessions'

const FINGERPRINT_CONTEXT = 'reset-token-password:v1:'

/** Names the password a reset token was issued under, without storing the hash a second time. */
const passwordFingerprint = (passwordHash: string): Promise<string> =>
  sha256Base64Url(FINGERPRINT_CONTEXT + passwordHash)

const invalidToken = () => new InvalidOneTimeToken()

const log = (level: 'info' | 'error', msg: string, fields: Record<string, unknown>) => {
  const line = JSON.stringify({ level, msg, ...fields })
  if (level === 'error') console.error(line)
  else console.log(line)
}

/**
 * Everything behind a 202 of forgot or verification, run after the response (waitUntil), so
 * that the answer and its timing are the same whether or not the email has an account. Never
 * throws: a failure is logged, without the token or the address.
 */
export const sendAccountLink = async (
  core: Core,
  mailer: ConfiguredMailer | null,
  purpose: AccountLinkPurpose,
  email: string
): Promise<void> => {
  if (!mailer) {
    // The same line whatever the address: the log may be read by more people than the database.
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'mail is off (no MAIL_TRANSPORT): nothing sent',
        purpose,
      })
    )
    return
  }
  const fields = { purpose, transport: mailer.transport }
  try {
    const { ports, options } = core
    const user = await ports.users.findByEmail(email)
    if (!user) return
    if (purpose === 'email_verification' && user.email_verified_at !== null) return
    const now = nowSeconds()
    const token = newOpaqueToken(shardTag(user.id))
    const issued = await ports.oneTimeTokens.insertWithinBudget(
      {
        tokenHash: await hashOf(token),
        purpose,
        userId: user.id,
        email: user.email,
        passwordFingerprint:
          purpose === 'password_reset' ? await passwordFingerprint(user.password_hash) : null,
        now,
        expiresAt: now + options.limits.oneTimeTokenLifetime[purpose],
      },
      options.limits.mailBudget
    )
    if (!issued) {
      log('info', 'account message not sent: limit reached', fields)
      return
    }
    await mailer.send(composeAccountMessage(purpose, mailer.appUrl, user.email, token))
    log('info', 'account message sent', fields)
  } catch (error) {
    const cause = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown'
    log('error', 'account message not delivered', { ...fields, cause })
  }
}

/** The holder of a live token of this purpose; malformed, unknown, used and expired are alike. */
const liveTokenHolder = async (
  core: Core,
  token: string,
  purpose: AccountLinkPurpose
): Promise<{ tokenHash: string; holder: TokenHolder }> => {
  if (!isOpaqueToken(token)) throw invalidToken()
  const tokenHash = await hashOf(token)
  const holder = await core.ports.oneTimeTokens.findLive(tokenHash, purpose, nowSeconds())
  if (!holder) throw invalidToken()
  return { tokenHash, holder }
}

/**
 * Sets a new password with a reset token, ends every session of the account and clears its
 * failed-login count. A token issued before any later password change is dead. The address's
 * owner takes the account back: the features remove, in the same transaction, every credential
 * added before the address was first proven (pre-account takeover). Returns the account's id.
 */
export const resetPassword = async (
  core: Core,
  token: string,
  newPassword: string
): Promise<string> => {
  const { tokenHash, holder } = await liveTokenHolder(core, token, 'password_reset')
  const fingerprint = await passwordFingerprint(holder.passwordHash)
  const stored = holder.passwordFingerprint
  if (stored === null || !constantTimeEqualText(stored, fingerprint)) {
    throw invalidToken()
  }
  const newPasswordHash = await hashPassword(newPassword, core.options.passwordPolicy)
  const parts = core.hooks.accountReclaimed.map((reclaim) =>
    reclaim(holder.userId, holder.emailVerifiedAt)
  )
  const ended = await core.ports.oneTimeTokens.redeemPasswordReset({
    tokenHash,
    holder,
    newPasswordHash,
    now: nowSeconds(),
    nowIso: isoNow(),
    steps: parts.flatMap((part) => part.steps ?? []),
  })
  if (ended === null) throw invalidToken()
  await forgetRefreshTokens(core, ended)
  for (const part of parts) {
    if (part.after) await bestEffort('cleanup after a password reset failed', part.after)
  }
  return holder.userId
}

export const verifyEmail = async (core: Core, token: string): Promise<PublicUser> => {
  const { tokenHash, holder } = await liveTokenHolder(core, token, 'email_verification')
  const user = await core.ports.oneTimeTokens.redeemEmailVerification(
    tokenHash,
    holder,
    nowSeconds(),
    isoNow()
  )
  if (!user) throw invalidToken()
  return user
}
