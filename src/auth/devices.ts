/**
 * Device tokens (OWASP's "device cookies"): a client that signed in to an account gets a token
 * that later logins present, and a login presenting a valid one is counted on that device's own
 * failure budget instead of the account's shared one, so a stranger's guesses never lock out a
 * device the owner uses. 256 random bits, kept only as a SHA-256 hash, bound to the account at its
 * credential version (a password change or reset ends every device at once).
 */
import type { DeviceRow, UserRow } from '../ports'
import { newOpaqueToken, opaqueTokenHash, shardTag, tokenHash } from './encoding'

/** A year; the cookie says the same (browsers cap a cookie's life at 400 days). */
export const DEVICE_TOKEN_LIFETIME = 365 * 86_400

/** The hash a presented token is stored under; null for anything not shaped like one. */
export const deviceTokenHash = opaqueTokenHash

/** Whether a stored device still speaks for this account: same account, same credentials, live. */
export const isDeviceOf = (device: DeviceRow | null, user: UserRow | null, now: number): boolean =>
  device !== null &&
  user !== null &&
  device.user_id === user.id &&
  device.credential_version === user.credential_version &&
  device.expires_at > now

/** The login-failure key of a known device (an email always has an @; this never does). */
export const deviceThrottleKey = (tokenHash: string): string => `device:${tokenHash}`

/** A new device for an account: the raw token for the client, the row to store with the session. */
export const newDevice = async (
  userId: string,
  credentialVersion: number,
  now: number
): Promise<{ token: string; row: DeviceRow }> => {
  const token = newOpaqueToken(shardTag(userId))
  return {
    token,
    row: {
      token_hash: await tokenHash(token),
      user_id: userId,
      credential_version: credentialVersion,
      created_at: now,
      expires_at: now + DEVICE_TOKEN_LIFETIME,
    },
  }
}
