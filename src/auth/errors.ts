/**
 * The failures auth/ can report: small named errors that say what went wrong and never pick a
 * status or a header. http/handle-error.ts maps each to the contract's error, in one place.
 */

/** Names are set by hand: the minified bundle renames classes, and logs show `name`. */

/** The request does not prove who it is (the contract's 401s). */
export class Unauthenticated extends Error {}

/** A malformed or forged access token; `message` says what is wrong with it. */
export class InvalidAccessToken extends Unauthenticated {
  override name = 'InvalidAccessToken'
}

/** A genuine access token past its `exp`. */
export class AccessTokenExpired extends Unauthenticated {
  override name = 'AccessTokenExpired'
  constructor() {
    super('The access token expired')
  }
}

/** A refresh token that is unknown, expired, malformed or already used; `detail` may say which. */
export class InvalidRefreshToken extends Unauthenticated {
  override name = 'InvalidRefreshToken'
  constructor(readonly detail?: string) {
    super(detail ?? 'invalid refresh token')
  }
}

/** A rotated-away refresh token came back after its grace window: its live session was ended. */
export class RefreshTokenReused extends InvalidRefreshToken {
  override name = 'RefreshTokenReused'
  constructor(
    readonly userId: string,
    readonly sessionId: string
  ) {
    super('The refresh token was already used; its session has been ended.')
  }
}

/** A wrong email or password at login (the same answer for both). */
export class InvalidCredentials extends Unauthenticated {
  override name = 'InvalidCredentials'
  /** The account whose password was wrong, for its security events; never shown to the client. */
  constructor(
    message?: string,
    readonly userId?: string
  ) {
    super(message)
  }
}

/** The session behind a token has ended, or its user is gone. */
export class SessionEnded extends Unauthenticated {
  override name = 'SessionEnded'
}

/** A signed-in user re-proving a password got it wrong; the token itself is fine. */
export class WrongPassword extends Error {
  override name = 'WrongPassword'
}

/** Too many failed logins for this account; `retryAfter` is in seconds. */
export class LoginThrottled extends Error {
  override name = 'LoginThrottled'
  constructor(readonly retryAfter: number) {
    super(`login throttled for ${retryAfter} s`)
  }
}

export class EmailTaken extends Error {
  override name = 'EmailTaken'
}

/** A write that kept losing a race with another change of the same account. */
export class AccountChangedMeanwhile extends Error {
  override name = 'AccountChangedMeanwhile'
}

/** The deployment's configuration or keys are unusable; the message names the setting, never a secret. */
export class Misconfigured extends Error {
  override name = 'Misconfigured'
}

/** A correct login of an account whose address is not verified, with REQUIRE_EMAIL_VERIFICATION. */
export class EmailNotVerified extends Error {
  override name = 'EmailNotVerified'
}

/** A one-time token (reset or verification) that is unknown, used, expired or malformed. */
export class InvalidOneTimeToken extends Error {
  override name = 'InvalidOneTimeToken'
}

/** A page cursor that this service did not hand out. */
export class InvalidCursor extends Error {
  override name = 'InvalidCursor'
}

/** A wrong answer to a second factor: counted by the caller, then the method's 401. */
export class WrongSecondFactor extends Error {
  override name = 'WrongSecondFactor'
  /** The account whose factor was answered wrong (for its security events). */
  userId?: string
  constructor(readonly code: 'invalid_mfa_code' | 'invalid_passkey') {
    super(code)
  }
}

/** An mfa_token that is unknown, used, expired or past its wrong answers. */
export class InvalidMfaToken extends Error {
  override name = 'InvalidMfaToken'
}
