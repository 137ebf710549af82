/** Turns stored rows into the JSON shapes of the contract; nothing internal leaves through here. */
import type * as v from 'valibot'
import type { IssuedTokens } from '../auth/sign-in'
import { isoFromSeconds } from '../clock'
import type { PublicUser, SecurityEventRow, SessionRow } from '../ports'
import type * as oauthSchemas from './oauth-schemas'
import type * as schemas from './schemas'

// Each shape is checked against the schema the route declares, so the document cannot promise
// a field that the code does not send.
type Out<S extends v.GenericSchema> = v.InferOutput<S>

/** users.mfa as the user object shows it; a missing or unreadable column means none. */
const presentMfa = (mfa: string | undefined) => {
  let parsed: { totp?: unknown; passkeys?: unknown } = {}
  try {
    parsed = mfa ? (JSON.parse(mfa) as typeof parsed) : {}
  } catch {
    // A hand-edited row: shown as no second factor rather than failing every request.
  }
  return {
    totp: parsed.totp === true,
    passkeys: typeof parsed.passkeys === 'number' ? parsed.passkeys : 0,
  }
}

export const presentUser = (user: PublicUser) =>
  ({
    id: user.id,
    email: user.email,
    nickname: user.nickname,
    created_at: user.created_at,
    email_verified: user.email_verified_at !== null,
    mfa: presentMfa(user.mfa),
  }) satisfies Out<typeof schemas.UserSchema>

export const presentTokens = (user: PublicUser, tokens: IssuedTokens) =>
  ({
    user: presentUser(user),
    access_token: tokens.accessToken,
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
    refresh_expires_in: tokens.refreshExpiresIn,
    ...(tokens.deviceToken ? { device_token: tokens.deviceToken } : {}),
  }) satisfies Out<typeof schemas.TokenResponse>

/** Cookie mode: the same response without the raw tokens, which travel only in HttpOnly cookies. */
export const presentCookieTokens = (user: PublicUser, tokens: IssuedTokens) =>
  ({
    user: presentUser(user),
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    refresh_expires_in: tokens.refreshExpiresIn,
    auth_mode: 'cookie' as const,
  }) satisfies Out<typeof schemas.CookieTokenResponse>

/** The OAuth token response (RFC 6749 §5.1): no user and no refresh expiry. */
export const presentOAuthTokens = (tokens: IssuedTokens) =>
  ({
    access_token: tokens.accessToken,
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
  }) satisfies Out<typeof oauthSchemas.OAuthTokenResponse>

export const presentSession = (session: SessionRow, currentSessionId: string) =>
  ({
    id: session.id,
    created_at: isoFromSeconds(session.created_at),
    last_used_at: isoFromSeconds(session.last_used_at),
    expires_at: isoFromSeconds(session.expires_at),
    user_agent: session.user_agent,
    current: session.id === currentSessionId,
  }) satisfies Out<typeof schemas.SessionSchema>

export const presentSecurityEvent = (event: SecurityEventRow) =>
  ({
    type: event.type,
    method: event.method,
    created_at: isoFromSeconds(event.created_at),
    ip: event.ip,
    user_agent: event.user_agent,
    country: event.country,
    session_id: event.session_id,
  }) satisfies Out<typeof schemas.SecurityEventSchema>
