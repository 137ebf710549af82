/** The passkey feature's failures; its mapError turns them into the contract's codes. */

/** A credential that does not prove what it claims: malformed, unknown, replayed or forged. */
export class InvalidPasskey extends Error {
  override name = 'InvalidPasskey'
}

/**
 * No relying party is configured (neither WEBAUTHN_RP_ID nor APP_URL): passkeys are off, and
 * their routes answer 404 like any route a deployment does not serve.
 */
export class PasskeysOff extends Error {
  override name = 'PasskeysOff'
}
