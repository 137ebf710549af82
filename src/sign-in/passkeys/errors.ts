/** The passkey feature's failure; its mapError turns it into the contract's invalid_passkey. */

/**
 * A credential that does not prove what it claims: malformed, unknown, replayed or forged. It
 * carries no reason: a client learns nothing from which check failed, and a 4xx is not logged.
 */
export class InvalidPasskey extends Error {
  override name = 'InvalidPasskey'
}

export const refuse: () => never = () => {
  throw new InvalidPasskey()
}
