/**
 * TOTP's own failures. Its codes are in the core's table (the typed client's declarations only
 * see that one); wrong answers are the core's WrongSecondFactor.
 */
import { ApiError } from '../../http/errors'

export class TotpAlreadyEnabled extends Error {
  override name = 'TotpAlreadyEnabled'
}

export class TotpNotEnabled extends Error {
  override name = 'TotpNotEnabled'
}

export const mapTotpError = (error: Error): ApiError | null => {
  if (error instanceof TotpAlreadyEnabled) return new ApiError('mfa_already_enabled')
  if (error instanceof TotpNotEnabled) {
    return new ApiError('not_found', { message: 'Two-step sign-in is not on.' })
  }
  return null
}
