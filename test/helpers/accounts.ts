/** Accounts for tests: unique emails, registration and login, and the token response they give. */
import { expect } from 'vitest'
import { api, callApp } from './requests'

/** The password every test account gets unless a test says otherwise. */
export const PASSWORD = 'correct horse battery staple'

let emailCounter = 0
export const uniqueEmail = (): string =>
  `user${Date.now().toString(36)}${(emailCounter++).toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`

export interface TokenResponseBody {
  user: {
    id: string
    email: string
    nickname: string | null
    created_at: string
    email_verified: boolean
    mfa: { totp: boolean; passkeys: number }
  }
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
  /** Register and login from a device the account does not know yet. */
  device_token?: string
}

export interface Account {
  email: string
  password: string
  tokens: TokenResponseBody
  accessToken: string
  refreshToken: string
  userId: string
}

const toAccount = (email: string, password: string, tokens: TokenResponseBody): Account => ({
  email,
  password,
  tokens,
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  userId: tokens.user.id,
})

/**
 * Registers an account and expects 201. With `appEnv` the request goes through app.fetch with
 * that env (another signing algorithm, other keys) instead of SELF.
 */
export const registerUser = async (
  overrides: { email?: string; password?: string; nickname?: string; appEnv?: object } = {}
): Promise<Account> => {
  const email = overrides.email ?? uniqueEmail()
  const password = overrides.password ?? PASSWORD
  const options = { json: { email, password, nickname: overrides.nickname } }
  const res = overrides.appEnv
    ? await callApp(overrides.appEnv, '/auth/register', options)
    : await api('/auth/register', options)
  expect(res.status, await res.clone().text()).toBe(201)
  return toAccount(email, password, await res.json())
}

/** POST /auth/login, whatever it answers. */
export const login = (email: string, password: string): Promise<Response> =>
  api('/auth/login', { json: { email, password } })

/** Logs in (a new session of the same account) and expects 200. */
export const loginUser = async (
  email: string,
  password: string,
  headers?: Record<string, string>
): Promise<Account> => {
  const res = await api('/auth/login', { json: { email, password }, headers })
  expect(res.status, await res.clone().text()).toBe(200)
  return toAccount(email, password, await res.json())
}

/** The contract's token response, field by field, with the headers every token response needs. */
export const expectTokenResponse = async (
  res: Response,
  status: 200 | 201
): Promise<TokenResponseBody> => {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
  expect(res.headers.get('Cache-Control')).toBe('no-store')
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
  const body = JSON.parse(text) as TokenResponseBody
  // Register and login hand out a device token; refresh does not.
  if (body.device_token !== undefined) expect(body.device_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect(
    Object.keys(body)
      .filter((key) => key !== 'device_token')
      .sort()
  ).toEqual(
    [
      'access_token',
      'expires_in',
      'refresh_expires_in',
      'refresh_token',
      'token_type',
      'user',
    ].sort()
  )
  expect(Object.keys(body.user).sort()).toEqual([
    'created_at',
    'email',
    'email_verified',
    'id',
    'mfa',
    'nickname',
  ])
  expect(body.user.email_verified).toBe(false)
  expect(body.user.id).toMatch(/\S/)
  expect(new Date(body.user.created_at).toISOString()).toBe(body.user.created_at)
  expect(body.access_token.split('.')).toHaveLength(3)
  expect(body.token_type).toBe('Bearer')
  expect(body.expires_in).toBe(900)
  expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/)
  // A successor handed out again within the grace window reports its remaining lifetime.
  expect(body.refresh_expires_in).toBeLessThanOrEqual(2_592_000)
  expect(body.refresh_expires_in).toBeGreaterThan(2_592_000 - 30)
  return body
}
