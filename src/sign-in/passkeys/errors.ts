/** The passkey feature's failure, in the second factors' vocabulary (401 invalid_passkey). */
import { WrongSecondFactor } from '../../auth/errors'

/**
 * A credential that does not prove what it claims: malformed, unknown, replayed or forged. It
 * carries no reason: a client learns nothing from which check failed, and a 4xx is not logged.
 */
export class InvalidPasskey extends WrongSecondFactor {
  override name = 'InvalidPasskey'
  constructor() {
    super('invalid_passkey')
  }
}

export const refuse: () => never = () => {
  throw new InvalidPasskey()
}
