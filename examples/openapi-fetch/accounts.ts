/**
 * Register, sign in and sign out. Sign-in shows the error branches a front end must handle:
 * a wrong password (`invalid_credentials`) and a throttled account (`too_many_requests`).
 */
import type { ApiClient, TokenResponse } from './client'
import { bearer, callFailed } from './client'

/** Bearer mode: the tokens come back in the body (cookie mode would set them as cookies). */
export interface TokenPair {
  accessToken: string
  refreshToken: string
  /** Milliseconds since the epoch, by the client's clock, when the access token expires. */
  accessExpiresAt: number
}

export const tokenPairOf = (body: TokenResponse, now = Date.now()): TokenPair => {
  if (!('access_token' in body) || !('refresh_token' in body)) {
    throw new Error('expected a bearer-mode token response with both tokens')
  }
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    accessExpiresAt: now + body.expires_in * 1000,
  }
}

export const register = async (
  client: ApiClient,
  account: { email: string; password: string; nickname?: string }
) => {
  const { data, error, response } = await client.POST('/auth/register', { body: account })
  if (error) throw callFailed(response, error)
  // With REQUIRE_EMAIL_VERIFICATION=true no session begins until the address is verified.
  if ('email_verification_required' in data) {
    throw new Error('verify the address from the emailed link, then sign in')
  }
  return { user: data.user, tokens: tokenPairOf(data) }
}

export type SignInResult =
  | { outcome: 'signed-in'; user: TokenResponse['user']; tokens: TokenPair }
  | { outcome: 'second-factor'; mfaToken: string; methods: string[] }
  | { outcome: 'wrong-credentials'; message: string }
  | { outcome: 'throttled'; retryAfterSeconds: number; message: string }

export const signIn = async (
  client: ApiClient,
  email: string,
  password: string
): Promise<SignInResult> => {
  const { data, error, response } = await client.POST('/auth/login', {
    body: { email, password },
  })
  // 202: the password was right, and the account asks for a code (POST /auth/mfa/verify).
  if (data && 'mfa_required' in data) {
    return { outcome: 'second-factor', mfaToken: data.mfa_token, methods: data.methods }
  }
  if (data) return { outcome: 'signed-in', user: data.user, tokens: tokenPairOf(data) }
  switch (error.error) {
    case 'invalid_credentials':
      // The same answer for an unknown email and a wrong password: say so, name neither.
      return { outcome: 'wrong-credentials', message: error.message }
    case 'too_many_requests':
      return {
        outcome: 'throttled',
        retryAfterSeconds: Number(response.headers.get('Retry-After') ?? '60'),
        message: error.message,
      }
    default:
      throw callFailed(response, error)
  }
}

/** Ends this session on the server; both of its tokens stop working at once. */
export const signOut = async (client: ApiClient, tokens: TokenPair) => {
  const { error, response } = await client.POST('/auth/logout', {
    headers: bearer(tokens.accessToken),
  })
  if (error) throw callFailed(response, error)
}
