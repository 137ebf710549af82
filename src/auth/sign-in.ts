/**
 * The sign-in seam: every way of signing in (a password, a TOTP code after it, a passkey, an
 * identity provider) ends in a VerifiedSignIn, and a session starts from that, never from a
 * particular credential. A first factor may end in "second factor required" instead: the
 * features' gates decide, so that no method's code knows about another's.
 */
import type { PublicUser, Reservation, UserRow } from '../ports'

/** RFC 8176 method references: 'pwd', 'otp', 'hwk', 'swk', 'user', 'fed', ... */
export type AuthMethodReference = string

/** What a sign-in method hands over once it has checked a credential. */
export interface VerifiedSignIn {
  userId: string
  /** The methods proved, in order: ['pwd'], then ['pwd', 'otp'] after a TOTP code. */
  amr: AuthMethodReference[]
  /** When the user proved it, seconds since the epoch (the token's `auth_time`). */
  authTime: number
  /**
   * users.credential_version, read in the same read as the credential that was checked. The
   * session insert lands only while it is unchanged: no sign-in checked against an old
   * credential outlives a password change or reset.
   */
  credentialVersion: number
  /** The login throttle's place, given back in the session insert's transaction. */
  reservation?: Reservation | null
  /** The sign-in presented a valid device token of this account: it keeps that one. */
  knownDevice?: boolean
}

/** Facts about the request a session records. */
export interface SignInMeta {
  userAgent: string | null
  /** The device token the client presented (X-Device-Token or the device cookie), unchecked. */
  deviceToken?: string
}

/** A session's tokens, as register, login and refresh hand them out. */
export interface IssuedTokens {
  sessionId: string
  userId: string
  accessToken: string
  expiresIn: number
  refreshToken: string
  refreshExpiresIn: number
  /** A new device token, handed out by a sign-in from a device the account does not know yet. */
  deviceToken?: string
}

/** What a first factor asks for instead of a session: the 202 body's fields. */
export interface SecondFactorChallenge {
  mfa_token: string
  methods: string[]
  expires_in: number
}

export type SignInOutcome =
  | { kind: 'session'; user: PublicUser; tokens: IssuedTokens }
  | { kind: 'second_factor'; challenge: SecondFactorChallenge }

/**
 * A feature's hook after a first factor: a challenge when this account needs a second factor,
 * or null to let the session start. Gates run in registration order; the first challenge wins.
 */
export type SecondFactorGate = (
  signIn: VerifiedSignIn,
  user: UserRow
) => Promise<SecondFactorChallenge | null>

export interface SecondFactorAttempt {
  user: PublicUser
  /** One of the method's `methods`. */
  method: string
  code?: string
  credential?: Record<string, unknown>
  purpose: 'sign_in' | 'reauthenticate'
  /** sign_in only: the mfa_token's id, for a method that binds its own challenge to it. */
  challengeId?: string
}

/**
 * A second factor a feature registers (FeatureRuntime.secondFactor): it checks its own answers;
 * src/auth/second-factor.ts counts wrong ones, keeps mfa_tokens single use and starts sessions.
 */
export interface SecondFactorMethod {
  /** The `method` values it answers: ['totp', 'recovery_code'], ['passkey']. */
  methods: readonly string[]
  /**
   * Which of them the account has, for the 202's `methods`; [] when none. Also asked by the
   * freshness rule, with the signed-in user (users.mfa read with the session).
   */
  enrolled(user: PublicUser): string[] | Promise<string[]>
  /** The RFC 8176 values the answer proves; a wrong answer rejects with WrongSecondFactor. */
  verify(attempt: SecondFactorAttempt): Promise<AuthMethodReference[]>
}
