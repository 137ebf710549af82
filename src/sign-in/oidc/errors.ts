/** The oidc flow's failures, each named by the `#login_error=<code>` the browser is sent back with. */

export type LoginErrorCode =
  'invalid_state' | 'provider_error' | 'invalid_id_token' | 'account_exists'

/**
 * invalid_state: a missing, unknown, used, expired or other browser's state. provider_error: the
 * provider unreachable, answering an error or something unusable. invalid_id_token: a failed
 * check of the ID token. account_exists: an address the identity may not sign in or link to.
 */
export class SignInFailed extends Error {
  override name = 'SignInFailed'
  constructor(
    readonly code: LoginErrorCode,
    options?: ErrorOptions
  ) {
    super(code, options)
  }
}
