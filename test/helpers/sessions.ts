/** Sessions from outside: a session's two tokens, probes of whether it lives, its KV records. */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import type { TokenResponseBody } from './accounts'
import { api, expectError } from './requests'
import { decodeJwt, sha256Base64Url } from './tokens'

/** The two tokens a client holds for one session. */
export interface SessionTokens {
  accessToken: string
  refreshToken: string
}

export const sessionIdOf = (accessToken: string): string =>
  String(decodeJwt(accessToken).payload.sid)

export const tokensOf = (body: TokenResponseBody): SessionTokens => ({
  accessToken: body.access_token,
  refreshToken: body.refresh_token,
})

/** POST /auth/refresh with a token in the body, whatever it answers. */
export const refresh = (refreshToken: string): Promise<Response> =>
  api('/auth/refresh', { json: { refresh_token: refreshToken } })

/** Refreshes and expects success; returns the new pair. */
export const rotate = async (refreshToken: string): Promise<SessionTokens> => {
  const res = await refresh(refreshToken)
  expect(res.status, await res.clone().text()).toBe(200)
  return tokensOf(await res.json())
}

/**
 * Expects both tokens of a session to work: the access token on GET /me, the refresh token on
 * POST /auth/refresh. The refresh rotates, so the returned pair replaces the one passed in.
 */
export const expectSessionAlive = async (tokens: SessionTokens): Promise<SessionTokens> => {
  const me = await api('/me', { token: tokens.accessToken })
  expect(me.status, await me.text()).toBe(200)
  return rotate(tokens.refreshToken)
}

/** Expects a session to be over: token_revoked on GET /me, invalid_refresh_token on refresh. */
export const expectSessionEnded = async (tokens: SessionTokens): Promise<void> => {
  const me = await api('/me', { token: tokens.accessToken })
  await expectError(me, 401, 'token_revoked')
  expect(me.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
  await expectError(await refresh(tokens.refreshToken), 401, 'invalid_refresh_token')
}

export interface SessionListItem {
  id: string
  created_at: string
  last_used_at: string
  expires_at: string
  user_agent: string | null
  current: boolean
}

export const listSessions = async (accessToken: string): Promise<SessionListItem[]> => {
  const res = await api('/auth/sessions', { token: accessToken })
  expect(res.status, await res.clone().text()).toBe(200)
  return ((await res.json()) as { sessions: SessionListItem[] }).sessions
}

const REFRESH_KEY_PREFIX = 'v1:refresh:'

/** Every refresh-token record in KV, key to raw value. */
export const refreshRecords = async (): Promise<Map<string, string>> => {
  const records = new Map<string, string>()
  let cursor: string | undefined
  do {
    const page = await env.REFRESH_TOKENS.list({ prefix: REFRESH_KEY_PREFIX, cursor })
    for (const key of page.keys) {
      records.set(key.name, (await env.REFRESH_TOKENS.get(key.name)) ?? '')
    }
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return records
}

/** The KV key of a raw refresh token: its SHA-256, base64url, behind the versioned prefix. */
export const refreshKeyOf = async (refreshToken: string): Promise<string> =>
  REFRESH_KEY_PREFIX + (await sha256Base64Url(refreshToken))
