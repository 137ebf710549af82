/** Helpers for session tests: a pinned clock, probes of a session's two tokens, and KV listings. */
import { env } from 'cloudflare:test'
import { expect, vi } from 'vitest'
import { api, decodeJwt, expectError, refresh } from './helpers'
import type { TokenResponseBody } from './helpers'

export { apiWithEnv } from './helpers'

/** The two tokens a client holds for one session. */
export interface SessionTokens {
  accessToken: string
  refreshToken: string
}

/** A whole second, so that "N seconds later" means N seconds on the worker's clock too. */
export const pinClock = (at = Math.floor(Date.now() / 1000) * 1000): number => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(at)
  return at
}

export const sessionIdOf = (accessToken: string): string =>
  String(decodeJwt(accessToken).payload.sid)

export const tokensOf = (body: TokenResponseBody): SessionTokens => ({
  accessToken: body.access_token,
  refreshToken: body.refresh_token,
})

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
export const refreshKeyOf = async (refreshToken: string): Promise<string> => {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(refreshToken))
  )
  const base64 = btoa(String.fromCharCode(...digest))
  return REFRESH_KEY_PREFIX + base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Wraps the real D1 binding so that every `first()` reading `table` calls `afterRead` once its
 * row has arrived and before the worker sees it: a place to hold a request at a chosen point.
 */
export const d1PausingAfterRead = (
  db: D1Database,
  table: 'users' | 'sessions' | 'one_time_tokens',
  afterRead: () => Promise<void>
): D1Database => {
  const reads = new RegExp(`\\bFROM ${table}\\b`)
  const passThrough = (target: object, prop: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, prop, target)
    return typeof value === 'function' ? value.bind(target) : value
  }
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrap(target.bind(...values), sql)
        if (prop === 'first' && reads.test(sql)) {
          return async () => {
            const row = await target.first()
            await afterRead()
            return row
          }
        }
        return passThrough(target, prop)
      },
    })
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql)
      return passThrough(target, prop)
    },
  })
}
