/** The oidc feature's domain failures; routes.ts maps each to the contract's answer. */

/** The provider could not be reached, answered an error, or answered something unusable. */
export class ProviderError extends Error {
  override name = 'ProviderError'
}

/** The ID token failed a check: signature, alg, iss, aud, azp, exp, iat, nonce or sub. */
export class InvalidIdToken extends Error {
  override name = 'InvalidIdToken'
}

/** A missing, unknown, used, expired or foreign (another browser's) state. */
export class InvalidState extends Error {
  override name = 'InvalidState'
}

/** The identity's address belongs to an account it may not sign in or be linked to. */
export class AccountExists extends Error {
  override name = 'AccountExists'
}

/** Unlinking would leave the account with no way to sign in. */
export class LastSignInMethod extends Error {
  override name = 'LastSignInMethod'
}
